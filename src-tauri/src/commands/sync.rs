use mes_core::sync::{OutboxEntry, QueuedWrite, SyncStatus};
use serde::{Deserialize, Serialize};
use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;

/// Sent whenever the connection or the outbox changes, so the window never polls for it.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct SyncStatusChanged(pub SyncStatus);

#[tauri::command]
#[specta::specta]
pub async fn sync_status(state: State<'_, AppState>) -> Result<SyncStatus, CommandError> {
    let session = state.session().await;
    Ok(crate::state::active(&session)?.synced.status())
}

/// Writes that need attention (oldest first), then pending ones.
#[tauri::command]
#[specta::specta]
pub async fn outbox_entries(state: State<'_, AppState>) -> Result<Vec<OutboxEntry>, CommandError> {
    state
        .call(|s| async move { s.outbox_entries().await })
        .await
}

/// Gives up a write that needed attention. False when there was no such write.
#[tauri::command]
#[specta::specta]
pub async fn discard_write(state: State<'_, AppState>, seq: i64) -> Result<bool, CommandError> {
    state.call(|s| async move { s.discard(seq).await }).await
}

/// Retries a write that needed attention, usually edited. False when there was no such write.
#[tauri::command]
#[specta::specta]
pub async fn retry_write(
    state: State<'_, AppState>,
    seq: i64,
    write: QueuedWrite,
) -> Result<bool, CommandError> {
    state
        .call(|s| async move { s.retry(seq, write).await })
        .await
}
