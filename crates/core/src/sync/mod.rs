//! Offline entry: writes accepted while the database is unreachable wait in a durable local
//! outbox (SQLite) and are replayed in order when it is back.
//!
//! Nothing is lost: a write is committed to the outbox before it is acknowledged, and leaves it
//! only after the server committed it or an operator discarded it. Nothing is applied twice: each
//! write carries its `write_id`, which the server records with the change (see `repo`), so a write
//! replayed after a crash between the server's commit and the outbox's removal is recognised.
//! A write that can no longer apply moves to "needs attention" with the reason and both versions;
//! it never blocks the writes behind it.

mod alert_store;
mod alert_watch;
mod fleet;
mod fleet_store;
mod grouped;
pub mod hooks;
mod jitter;
mod live;
mod outbox;
mod plan_reads;
mod queued;
mod reads;
mod replay;
mod service;
mod shift_reads;
mod transfer;

pub use alert_store::{WatchPosition, KEPT_ALERTS};
pub use alert_watch::{
    alerts_for, AlertListener, AlertNews, AlertWatch, GAP_PATIENCE, NOTICE_QUIET, OVERDUE_EVERY,
};
pub use fleet::FleetCopy;
pub use hooks::Hooks;
pub use live::{ChangeKind, LiveListener, MachineChange, CHANNEL};
pub use outbox::{Conflict, Enqueued, Outbox, OutboxEntry, OUTBOX_IN_USE};
pub use plan_reads::overlay_pending;
pub use queued::QueuedWrite;
pub use reads::FLEET_COPY_LIMIT;
pub use replay::{apply_batch, replay, BatchOutcome, ReplayReport};
pub use service::{
    Connection, StatusListener, Submitted, SyncStatus, SyncedRegistry, WriteOutcome,
};
pub use shift_reads::ShiftFormLists;
pub use transfer::EXPORT_LIMIT;
