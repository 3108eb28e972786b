use mes_core::domain::{
    CreateMachine, DeleteMachine, ListQuery, Machine, MachinePage, SetMachineStatus, StatusCount,
    UpdateMachine,
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
    Ok(state.synced()?.list_machines(&query).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn get_machine(state: State<'_, AppState>, uid: Uuid) -> Result<Machine, CommandError> {
    Ok(state.synced()?.get_machine(uid).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn create_machine(
    state: State<'_, AppState>,
    write: CreateMachine,
) -> Result<WriteOutcome, CommandError> {
    Ok(state.synced()?.create_machine(write).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn update_machine(
    state: State<'_, AppState>,
    write: UpdateMachine,
) -> Result<WriteOutcome, CommandError> {
    Ok(state.synced()?.update_machine(write).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn set_machine_status(
    state: State<'_, AppState>,
    write: SetMachineStatus,
) -> Result<WriteOutcome, CommandError> {
    Ok(state.synced()?.set_machine_status(write).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn delete_machine(
    state: State<'_, AppState>,
    write: DeleteMachine,
) -> Result<WriteOutcome, CommandError> {
    Ok(state.synced()?.delete_machine(write).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn status_counts(
    state: State<'_, AppState>,
    query: ListQuery,
) -> Result<Vec<StatusCount>, CommandError> {
    Ok(state.synced()?.status_counts(&query).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn machine_types(state: State<'_, AppState>) -> Result<Vec<String>, CommandError> {
    Ok(state.synced()?.machine_types().await?)
}
