//! The maintenance planner's figures: reliability over a range and the fleet's efficiency.

use mes_core::domain::{FleetEfficiency, MachineTimeline, ReliabilityReport, TimeRange};
use tauri::State;
use uuid::Uuid;

use crate::error::CommandError;
use crate::state::AppState;

/// Time per status, Down periods, MTTR and MTBF per machine and per type over `range`.
#[tauri::command]
#[specta::specta]
pub async fn reliability(
    state: State<'_, AppState>,
    range: TimeRange,
) -> Result<ReliabilityReport, CommandError> {
    state
        .call(move |s| async move { s.registry().reliability(range).await })
        .await
}

/// The fleet's efficiency against `target` (percent): median, distribution, machines below.
#[tauri::command]
#[specta::specta]
pub async fn fleet_efficiency(
    state: State<'_, AppState>,
    target: f64,
) -> Result<FleetEfficiency, CommandError> {
    state
        .call(move |s| async move { s.registry().fleet_efficiency(target).await })
        .await
}

/// A machine's status bands and efficiency changes within `range`.
#[tauri::command]
#[specta::specta]
pub async fn machine_timeline(
    state: State<'_, AppState>,
    uid: Uuid,
    range: TimeRange,
) -> Result<MachineTimeline, CommandError> {
    state
        .call(move |s| async move { s.registry().machine_timeline(uid, range).await })
        .await
}
