//! Shift production records and OEE: the form's live preview (on the PC, offline too), entering
//! a shift (queued while offline, like every write), the reason list (the last one seen while
//! offline) and its upkeep, and the OEE roll-ups a planner reads.

use mes_core::domain::{
    DowntimePareto, LossReason, NewLossReason, OeeDay, OeeGroup, OeeGrouping, RecordShift,
    SetTypeCycleTime, ShiftPreview, TimeRange,
};
use mes_core::sync::{ShiftFormLists, WriteOutcome};
use tauri::State;
use uuid::Uuid;

use crate::error::CommandError;
use crate::state::AppState;

/// A and P and Q and OEE of the shift as entered so far, or the rules it breaks.
#[tauri::command]
#[specta::specta]
pub fn preview_shift(write: RecordShift) -> ShiftPreview {
    ShiftPreview::of(&write, chrono::Utc::now())
}

#[tauri::command]
#[specta::specta]
pub async fn record_shift(
    state: State<'_, AppState>,
    write: RecordShift,
) -> Result<WriteOutcome, CommandError> {
    state
        .call(|s| async move { s.record_shift(write).await })
        .await
}

/// The shift form's lists: every reason (retired ones too) and the types' ideal cycle times;
/// offline, the last ones seen (`cached_at` set).
#[tauri::command]
#[specta::specta]
pub async fn shift_form_lists(state: State<'_, AppState>) -> Result<ShiftFormLists, CommandError> {
    state
        .call(|s| async move { s.shift_form_lists().await })
        .await
}

/// A planner sets or removes a machine type's ideal cycle time (needs the database).
#[tauri::command]
#[specta::specta]
pub async fn set_ideal_cycle_time(
    state: State<'_, AppState>,
    change: SetTypeCycleTime,
) -> Result<(), CommandError> {
    state
        .call(move |s| async move { s.registry().set_ideal_cycle_time(&change).await })
        .await
}

/// A planner's new reason (needs the database).
#[tauri::command]
#[specta::specta]
pub async fn add_loss_reason(
    state: State<'_, AppState>,
    reason: NewLossReason,
) -> Result<LossReason, CommandError> {
    state
        .call(|s| async move { s.registry().add_loss_reason(&reason).await })
        .await
}

/// Retires a reason: kept for the records that name it, no longer offered.
#[tauri::command]
#[specta::specta]
pub async fn retire_loss_reason(
    state: State<'_, AppState>,
    id: Uuid,
) -> Result<LossReason, CommandError> {
    state
        .call(move |s| async move { s.registry().retire_loss_reason(id).await })
        .await
}

/// OEE of the shifts that began in `range`: for the fleet, per type or per machine.
#[tauri::command]
#[specta::specta]
pub async fn oee_report(
    state: State<'_, AppState>,
    range: TimeRange,
    grouping: OeeGrouping,
) -> Result<Vec<OeeGroup>, CommandError> {
    state
        .call(move |s| async move { s.registry().oee_totals(range, grouping).await })
        .await
}

/// OEE per UTC day over the days `range` touches: the fleet, a type or a machine (`key`: the
/// type's name or the machine's uid).
#[tauri::command]
#[specta::specta]
pub async fn oee_trend(
    state: State<'_, AppState>,
    range: TimeRange,
    grouping: OeeGrouping,
    key: Option<String>,
) -> Result<Vec<OeeDay>, CommandError> {
    state
        .call(move |s| async move { s.registry().oee_trend(range, grouping, key).await })
        .await
}

/// Downtime by reason and by loss category of the shifts that began in `range`.
#[tauri::command]
#[specta::specta]
pub async fn downtime_pareto(
    state: State<'_, AppState>,
    range: TimeRange,
    grouping: OeeGrouping,
    key: Option<String>,
) -> Result<DowntimePareto, CommandError> {
    state
        .call(move |s| async move { s.registry().downtime_pareto(range, grouping, key).await })
        .await
}

/// One machine's OEE and waterfall over `range`.
#[tauri::command]
#[specta::specta]
pub async fn machine_oee(
    state: State<'_, AppState>,
    range: TimeRange,
    uid: Uuid,
) -> Result<OeeGroup, CommandError> {
    state
        .call(move |s| async move {
            let totals = s.registry().machine_oee_totals(range, uid).await?;
            Ok(OeeGroup::of(uid.to_string(), String::new(), totals))
        })
        .await
}
