//! The window opens where and as large as the operator left it (tauri-plugin-window-state).
//! The plugin saves on a clean exit only; a control-room PC is often switched off or the app
//! ended otherwise, so the state is also saved a moment after each move or resize.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tauri::{Manager, Runtime, WindowEvent};
use tauri_plugin_window_state::{AppHandleExt, StateFlags};

/// Moves and resizes come in bursts while dragging: the first is saved at once (the app may
/// end a moment later), the rest once the burst is over.
const SETTLE: Duration = Duration::from_millis(300);

pub fn plugin<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri_plugin_window_state::Builder::default().build()
}

/// Called with every window event (`Builder::on_window_event`): saves the window state at the
/// first move or resize, and again once a burst of them settled.
pub fn save_on_change<R: Runtime>(window: &tauri::Window<R>, event: &WindowEvent) {
    static GENERATION: AtomicU64 = AtomicU64::new(0);
    static LAST_SAVE_MS: AtomicU64 = AtomicU64::new(0);
    if !matches!(event, WindowEvent::Moved(_) | WindowEvent::Resized(_)) {
        return;
    }
    let handle = window.app_handle().clone();
    let now_ms = u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis(),
    )
    .unwrap_or(u64::MAX);
    let last = LAST_SAVE_MS.load(Ordering::Acquire);
    if now_ms.saturating_sub(last) >= SETTLE.as_millis() as u64 {
        LAST_SAVE_MS.store(now_ms, Ordering::Release);
        save(&handle);
    }
    let mine = GENERATION.fetch_add(1, Ordering::AcqRel) + 1;
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(SETTLE).await;
        if GENERATION.load(Ordering::Acquire) == mine {
            save(&handle);
        }
    });
}

fn save<R: Runtime>(handle: &tauri::AppHandle<R>) {
    if let Err(e) = handle.save_window_state(StateFlags::all()) {
        tracing::warn!(error = %e, "could not save the window's size and position");
    }
}
