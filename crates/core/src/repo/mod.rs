//! All SQL lives here. Functions take any executor (pool, connection or transaction) and return
//! domain types; database errors that mean something to a caller are mapped to `RegistryError`
//! here, where the constraint names are known.

mod alerts;
mod applied_writes;
mod history;
mod machines_batch;
mod machines_keyset;
mod machines_read;
mod machines_write;
mod maintenance;
mod oee_views;
mod reliability;
mod roles;
mod row;
mod shifts;

pub use alerts::{history_events_after, last_history_id, HistoryEvent};
pub use applied_writes::prune_applied_writes;
pub use history::machine_history;
pub use machines_batch::{
    create_machines, delete_machines, set_machine_statuses, update_machines, BatchCreate,
    BatchDelete, BatchStatus, BatchUpdate,
};
pub use machines_read::{
    all_machines, count_machines, fleet_signature, get_machine, list_machines, machine_types,
    machines_by_uid, rule_breaks, status_counts,
};
pub use machines_write::{
    create_machine, delete_machine, set_machine_status, update_machine, write_was_applied,
};
pub use maintenance::{
    maintenance_log, maintenance_plan, maintenance_write_applied, plan_maintenance,
    record_maintenance, set_type_interval,
};
pub use oee_views::{downtime_pareto, oee_trend};
pub use reliability::{
    fleet_efficiency, machine_reliability, machine_timeline, MACHINE_RELIABILITY_SQL,
};
pub use roles::{grant_roles, privileges};
pub use shifts::{
    add_loss_reason, ideal_cycle_times, insert_shift, loss_reasons, oee_totals, record_shift,
    retire_loss_reason, set_ideal_cycle_time,
};
