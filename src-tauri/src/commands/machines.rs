use mes_core::domain::{
    CreateMachine, DeleteMachine, ListQuery, Machine, MachinePage, SetMachineStatus, StatusCount,
    UpdateMachine,
};
use tauri::State;
use uuid::Uuid;

use crate::error::CommandError;
use crate::state::AppState;

#[tauri::command]
#[specta::specta]
pub async fn list_machines(
    state: State<'_, AppState>,
    query: ListQuery,
) -> Result<MachinePage, CommandError> {
    Ok(state.registry()?.list_machines(&query).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn get_machine(state: State<'_, AppState>, uid: Uuid) -> Result<Machine, CommandError> {
    Ok(state.registry()?.get_machine(uid).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn create_machine(
    state: State<'_, AppState>,
    write: CreateMachine,
) -> Result<Machine, CommandError> {
    Ok(state.registry()?.create_machine(&write).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn update_machine(
    state: State<'_, AppState>,
    write: UpdateMachine,
) -> Result<Machine, CommandError> {
    Ok(state.registry()?.update_machine(&write).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn set_machine_status(
    state: State<'_, AppState>,
    write: SetMachineStatus,
) -> Result<Machine, CommandError> {
    Ok(state.registry()?.set_machine_status(&write).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn delete_machine(
    state: State<'_, AppState>,
    write: DeleteMachine,
) -> Result<Machine, CommandError> {
    Ok(state.registry()?.delete_machine(&write).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn status_counts(
    state: State<'_, AppState>,
    query: ListQuery,
) -> Result<Vec<StatusCount>, CommandError> {
    Ok(state.registry()?.status_counts(&query).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn machine_types(state: State<'_, AppState>) -> Result<Vec<String>, CommandError> {
    Ok(state.registry()?.machine_types().await?)
}
