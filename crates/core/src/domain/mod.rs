//! Validated domain types. Raw input is parsed once, at the edge; a value of these types is valid
//! by construction, so nothing invalid reaches SQL.

mod alert;
mod cycle_time;
mod efficiency;
mod fleet_efficiency;
mod history;
mod input;
mod instant;
mod loss_reason;
mod machine;
mod maintenance;
mod oee;
mod oee_views;
mod privileges;
mod query;
mod reliability;
mod shift;
mod status;
mod text;

pub use alert::{
    escape_markup, notices_for, percent, Alert, AlertKind, AlertList, AlertSettings, NewAlert,
    Notice, SINGLE_NOTICES,
};
pub use cycle_time::{SetTypeCycleTime, TypeCycleTime};
pub use efficiency::Efficiency;
pub use fleet_efficiency::{
    validate_target, BelowTarget, FleetEfficiency, TypeEfficiency, DEFAULT_EFFICIENCY_TARGET,
};
pub use history::{FieldChange, HistoryEntry};
pub use input::{
    CreateMachine, DeleteMachine, MachineInput, SetMachineStatus, UpdateMachine, ValidMachine,
};
pub use instant::{parse_utc_instant, FUTURE_TOLERANCE};
pub use loss_reason::{LossReason, NewLossReason, DEFAULT_REASONS};
pub use machine::{Machine, StatusCount};
pub use maintenance::{
    due_state, DueState, MaintenancePlan, MaintenanceRecord, PlanMaintenance, PlannedMaintenance,
    RecordMaintenance, SetTypeInterval, TypeInterval, ValidPlan, ValidRecord, DUE_SOON_DAYS,
    MAX_INTERVAL_DAYS, MAX_NOTE_CHARS,
};
pub use oee::{LossCategory, LossGroup, OeeFigures, OeeTotals, Waterfall};
pub use oee_views::{CategoryDowntime, DowntimePareto, OeeDay, ReasonDowntime};
pub use privileges::{Privileges, GROUP_ROLES};
pub use query::{ListQuery, MachinePage, PageBoundary, SortColumn, SortDirection, ValidListQuery};
pub use reliability::{
    by_type, EfficiencyPoint, MachineReliability, MachineTimeline, ReliabilityReport, StatusBand,
    StatusTimes, TimeRange, TypeReliability,
};
pub use shift::{
    OeeGroup, OeeGrouping, RecordShift, ShiftInput, ShiftPreview, StopInput, ValidShift, ValidStop,
    MAX_SHIFT_HOURS,
};
pub use status::OperationalStatus;
pub use text::{MachineName, MachineType, MAX_TEXT_CHARS};
