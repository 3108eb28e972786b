//! Alerts: the list kept for the signed-in user, marking it read, and their alert settings.
//! New alerts reach the window as [`AlertsArrived`] (and the desktop, see `lib.rs`).

use mes_core::domain::{AlertList, AlertSettings};
use serde::{Deserialize, Serialize};
use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;

/// Sent when the watch kept new alerts, so the window never polls for them.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct AlertsArrived {
    pub new_alerts: u32,
}

/// The alerts kept for this user on this PC, newest first (at most 500).
#[tauri::command]
#[specta::specta]
pub async fn alerts(state: State<'_, AppState>) -> Result<AlertList, CommandError> {
    state.call(|s| async move { s.alerts().await }).await
}

/// Marks every alert up to `up_to` (an alert id) read; answers the list as it is then.
#[tauri::command]
#[specta::specta]
pub async fn mark_alerts_read(
    state: State<'_, AppState>,
    up_to: i64,
) -> Result<AlertList, CommandError> {
    state
        .call(move |s| async move { s.mark_alerts_read(up_to).await })
        .await
}

#[tauri::command]
#[specta::specta]
pub async fn alert_settings(state: State<'_, AppState>) -> Result<AlertSettings, CommandError> {
    state
        .call(|s| async move { s.alert_settings().await })
        .await
}

/// Saves the user's alert settings (a bad target is refused and changes nothing).
#[tauri::command]
#[specta::specta]
pub async fn save_alert_settings(
    state: State<'_, AppState>,
    settings: AlertSettings,
) -> Result<AlertSettings, CommandError> {
    state
        .call(move |s| async move { s.set_alert_settings(settings).await })
        .await
}
