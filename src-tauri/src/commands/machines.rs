use mes_core::domain::{
    CreateMachine, DeleteMachine, HistoryEntry, ListQuery, Machine, MachinePage, SetMachineStatus,
    StatusCount, UpdateMachine,
};
use mes_core::sync::WriteOutcome;
use tauri::State;
use uuid::Uuid;

use crate::error::CommandError;
use crate::state::AppState;

/// A page of machines; while the database is unreachable, the last page seen (`cached_at` set).
#[tauri::command]
#[specta::specta]
pub async fn list_machines(
    state: State<'_, AppState>,
    query: ListQuery,
) -> Result<MachinePage, CommandError> {
    state
        .call(|s| async move { s.list_machines(&query).await })
        .await
}

#[tauri::command]
#[specta::specta]
pub async fn get_machine(state: State<'_, AppState>, uid: Uuid) -> Result<Machine, CommandError> {
    state
        .call(|s| async move { s.get_machine(uid).await })
        .await
}

#[tauri::command]
#[specta::specta]
pub async fn create_machine(
    state: State<'_, AppState>,
    write: CreateMachine,
) -> Result<WriteOutcome, CommandError> {
    state
        .call(|s| async move { s.create_machine(write).await })
        .await
}

#[tauri::command]
#[specta::specta]
pub async fn update_machine(
    state: State<'_, AppState>,
    write: UpdateMachine,
) -> Result<WriteOutcome, CommandError> {
    state
        .call(|s| async move { s.update_machine(write).await })
        .await
}

#[tauri::command]
#[specta::specta]
pub async fn set_machine_status(
    state: State<'_, AppState>,
    write: SetMachineStatus,
) -> Result<WriteOutcome, CommandError> {
    state
        .call(|s| async move { s.set_machine_status(write).await })
        .await
}

#[tauri::command]
#[specta::specta]
pub async fn delete_machine(
    state: State<'_, AppState>,
    write: DeleteMachine,
) -> Result<WriteOutcome, CommandError> {
    state
        .call(|s| async move { s.delete_machine(write).await })
        .await
}

#[tauri::command]
#[specta::specta]
pub async fn status_counts(
    state: State<'_, AppState>,
    query: ListQuery,
) -> Result<Vec<StatusCount>, CommandError> {
    state
        .call(|s| async move { s.status_counts(&query).await })
        .await
}

#[tauri::command]
#[specta::specta]
pub async fn machine_types(state: State<'_, AppState>) -> Result<Vec<String>, CommandError> {
    state.call(|s| async move { s.machine_types().await }).await
}

/// A machine's changes by anyone (this app, other tools), newest first; deleted machines too.
#[tauri::command]
#[specta::specta]
pub async fn machine_history(
    state: State<'_, AppState>,
    uid: Uuid,
) -> Result<Vec<HistoryEntry>, CommandError> {
    state
        .call(|s| async move { s.machine_history(uid).await })
        .await
}
