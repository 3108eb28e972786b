//! The maintenance plan: read it, a machine's log, plan a machine, record maintenance done (both
//! queued while offline, like every machine write), and a type's default interval (online).

use mes_core::domain::{
    MaintenancePlan, MaintenanceRecord, PlanMaintenance, RecordMaintenance, SetTypeInterval,
};
use mes_core::sync::WriteOutcome;
use tauri::State;
use uuid::Uuid;

use crate::error::CommandError;
use crate::state::AppState;

/// Every machine's next due maintenance, most urgent first; offline, the last plan seen
/// (`cached_at` set). This PC's waiting writes are laid over it either way.
#[tauri::command]
#[specta::specta]
pub async fn maintenance_plan(state: State<'_, AppState>) -> Result<MaintenancePlan, CommandError> {
    state
        .call(|s| async move { s.maintenance_plan().await })
        .await
}

/// A machine's maintenance log, newest first.
#[tauri::command]
#[specta::specta]
pub async fn maintenance_log(
    state: State<'_, AppState>,
    uid: Uuid,
) -> Result<Vec<MaintenanceRecord>, CommandError> {
    state
        .call(move |s| async move { s.maintenance_log(uid).await })
        .await
}

#[tauri::command]
#[specta::specta]
pub async fn plan_maintenance(
    state: State<'_, AppState>,
    write: PlanMaintenance,
) -> Result<WriteOutcome, CommandError> {
    state
        .call(|s| async move { s.plan_maintenance(write).await })
        .await
}

#[tauri::command]
#[specta::specta]
pub async fn record_maintenance(
    state: State<'_, AppState>,
    write: RecordMaintenance,
) -> Result<WriteOutcome, CommandError> {
    state
        .call(|s| async move { s.record_maintenance(write).await })
        .await
}

/// Sets or removes a machine type's default interval (needs the database).
#[tauri::command]
#[specta::specta]
pub async fn set_type_interval(
    state: State<'_, AppState>,
    change: SetTypeInterval,
) -> Result<(), CommandError> {
    state
        .call(|s| async move { s.registry().set_type_interval(&change).await })
        .await
}
