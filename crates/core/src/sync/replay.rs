use chrono::Utc;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use std::time::Duration;

use uuid::Uuid;

use super::hooks::{self, Passage};
use super::{grouped, Conflict, Outbox, OutboxEntry, QueuedWrite};
use crate::db::{no_answer, within};
use crate::domain::OperationalStatus;
use crate::error::{from_sqlx, FieldError, RegistryError};
use crate::{repo, Registry};

/// Writes sent per server transaction: large enough that the commit's disk flush is shared by
/// many writes, small enough that one conflict costs little re-work.
const BATCH: i64 = 500;
/// The smallest batch replay shrinks to after conflicts.
const MIN_BATCH: i64 = 25;

/// What one replay pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ReplayReport {
    pub applied: u32,
    /// Writes moved to "needs attention" in this pass.
    pub conflicts: u32,
    /// Set when the database went away mid-pass: the rest stays pending and is retried.
    pub interrupted: Option<String>,
}

/// The server's answer to one batch. `Committed` means the server has the writes; until the
/// outbox removes them, a crash only means they are sent again and recognised as applied.
#[derive(Debug, PartialEq, Eq)]
pub enum BatchOutcome {
    Committed,
    /// A write in the batch cannot apply: nothing was committed; send fewer at a time.
    /// `before` is the earliest write (its `seq`) known not to apply, when the server said.
    NeedsSplitting {
        before: Option<i64>,
    },
}

enum ApplyError {
    Conflict(Conflict),
    Transient(RegistryError),
}

/// Sends all pending writes, in order, until none is left or the database goes away.
///
/// Writes go in batches, each one server transaction. When a batch cannot apply as a whole (a
/// write in it conflicts), the server usually says which write stopped it: the writes before
/// it go next as a batch, then that write alone, which gets its own answer. (When the server
/// cannot say, after an error, the batch is halved instead.) One conflict among 500 writes
/// so costs three server round trips of work instead of 500.
///
/// Each batch is taken from the outbox (and marked as sent) in one local transaction, only once
/// a server connection is in hand; while it is out, its writes still count as pending, so no
/// online write overtakes them. Every round trip of a batch has the database's deadline (a batch
/// of many steps may take longer as a whole): a network that freezes mid-batch interrupts the
/// replay, and the batch is sent again later and recognised where it did land.
pub async fn replay(registry: &Registry, outbox: &Outbox) -> Result<ReplayReport, RegistryError> {
    let mut report = ReplayReport::default();
    if let Err(e) = registry.ensure_schema().await {
        return interrupted(report, e);
    }
    let client = registry.client().or(Some(outbox.client_id()));
    let mut size = BATCH;
    // The batch size to use when nothing is known to stop a batch: halved after a batch that
    // could not apply (its work is rolled back and redone), doubled after one that did, so a
    // queue with scattered conflicts wastes little while a clean one still goes 500 at a time.
    let mut preferred = BATCH;
    // The write known to stop the batch being sent: once the writes before it are in, it goes
    // alone.
    let mut stopper = None;
    let mut busy = 0;
    // Connections found dead (a server restart or a network cut leaves the pool holding them)
    // are replaced, as `Db::run` does, before the replay counts as interrupted.
    let mut dead_connections = 0;
    loop {
        // The connection first: writes count as sent (and are never folded into again) only
        // once they can actually reach the server.
        let mut db = match registry.db().acquire().await {
            Ok(db) => db,
            Err(e) => return interrupted(report, e),
        };
        let entries = outbox.take(size).await?;
        if entries.is_empty() {
            return Ok(report);
        }
        outbox.hooks.at(hooks::REPLAY_TAKEN).await;
        let deadline = registry.db().deadline();
        let outcome = apply_taken(&mut db, &entries, client, deadline).await;
        let seqs: Vec<i64> = entries.iter().map(|e| e.seq).collect();
        match outcome {
            Ok(Taken::Committed) => {
                if outbox.hooks.at(hooks::REPLAY_COMMITTED).await == Passage::LoseAnswer {
                    return interrupted(report, registry.db().too_slow());
                }
                outbox.remove(&seqs).await?;
                report.applied += seqs.len() as u32;
                size = if stopper.take().is_some() {
                    1
                } else {
                    preferred = (preferred * 2).min(BATCH);
                    preferred
                };
                busy = 0;
            }
            Ok(Taken::Conflict(entry_seq, conflict)) => {
                tracing::warn!(seq = entry_seq, ?conflict, "queued write needs attention");
                outbox.set_conflict(entry_seq, &conflict).await?;
                report.conflicts += 1;
                size = preferred;
                stopper = None;
            }
            // Next, the writes before the one that stopped the batch (or, when that one is
            // first, it alone); when unknown, half as many.
            Ok(Taken::Split { before: Some(seq) }) => {
                stopper = Some(seq);
                preferred = (preferred / 2).max(MIN_BATCH);
                size = (entries.iter().take_while(|e| e.seq != seq).count() as i64).max(1);
            }
            Ok(Taken::Split { before: None }) => {
                stopper = None;
                preferred = (preferred / 2).max(MIN_BATCH);
                size = (entries.len() as i64 / 2).max(1);
            }
            Err(RegistryError::Busy(reason)) if busy < 3 => {
                busy += 1;
                tracing::info!(%reason, "replay met a busy database; trying the batch again");
                tokio::time::sleep(std::time::Duration::from_millis(50 << busy)).await;
            }
            Err(RegistryError::Unavailable(reason))
                if dead_connections < crate::db::MAX_CONNECTIONS
                    && !reason.starts_with(crate::db::NO_ANSWER) =>
            {
                db.close_on_drop();
                dead_connections += 1;
                tracing::debug!(%reason, "replay's connection failed; trying another");
            }
            Err(e) => {
                if matches!(e, RegistryError::Unavailable(_)) {
                    db.close_on_drop();
                }
                return interrupted(report, e);
            }
        }
    }
}

/// The server's answer to a batch taken from the outbox.
enum Taken {
    Committed,
    /// A lone write that cannot apply, and why.
    Conflict(i64, Conflict),
    /// Nothing was committed; send fewer at a time.
    Split {
        before: Option<i64>,
    },
}

async fn apply_taken(
    db: &mut PgConnection,
    entries: &[OutboxEntry],
    client: Option<Uuid>,
    deadline: Duration,
) -> Result<Taken, RegistryError> {
    match entries {
        // Alone, a write is one statement and commits by itself; outside a transaction, its
        // explanation (already applied? whose name?) can still be asked after a refusal.
        [entry] => match apply_within(db, entry, client, deadline).await {
            Ok(()) => Ok(Taken::Committed),
            Err(ApplyError::Conflict(conflict)) => Ok(Taken::Conflict(entry.seq, conflict)),
            Err(ApplyError::Transient(error)) => Err(error),
        },
        _ => {
            let tx = within(deadline, async {
                sqlx::Connection::begin(db).await.map_err(from_sqlx)
            })
            .await?;
            Ok(match apply_in(tx, entries, client, deadline).await? {
                BatchOutcome::Committed => Taken::Committed,
                BatchOutcome::NeedsSplitting { before } => Taken::Split { before },
            })
        }
    }
}

/// One queued write within the deadline.
async fn apply_within(
    db: &mut PgConnection,
    entry: &OutboxEntry,
    client: Option<Uuid>,
    deadline: Duration,
) -> Result<(), ApplyError> {
    match tokio::time::timeout(deadline, apply(db, entry, client)).await {
        Ok(result) => result,
        Err(_) => Err(ApplyError::Transient(no_answer(deadline))),
    }
}

fn interrupted(
    mut report: ReplayReport,
    error: RegistryError,
) -> Result<ReplayReport, RegistryError> {
    match error {
        RegistryError::Unavailable(reason)
        | RegistryError::Busy(reason)
        | RegistryError::SchemaRefused(reason) => {
            report.interrupted = Some(reason);
            Ok(report)
        }
        other => Err(other),
    }
}

/// Applies `entries` in one server transaction and commits it, or commits nothing.
pub async fn apply_batch(
    registry: &Registry,
    entries: &[OutboxEntry],
) -> Result<BatchOutcome, RegistryError> {
    let (client, deadline) = (registry.client(), registry.db().deadline());
    let tx = registry.pool().begin().await.map_err(from_sqlx)?;
    apply_in(tx, entries, client, deadline).await
}

/// Applies a batch in its transaction, each round trip within the deadline.
async fn apply_in(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    entries: &[OutboxEntry],
    client: Option<Uuid>,
    deadline: Duration,
) -> Result<BatchOutcome, RegistryError> {
    for step in grouped::plan(entries) {
        let stopped = match step {
            grouped::Step::One(entry) => {
                match apply_within(&mut tx, entry, client, deadline).await {
                    Ok(()) => None,
                    Err(ApplyError::Transient(error)) => return Err(error),
                    Err(ApplyError::Conflict(_)) => Some(Some(entry.seq)),
                }
            }
            group => match within(deadline, grouped::apply_step(&mut tx, &group, client)).await? {
                grouped::Grouped::Applied => None,
                grouped::Grouped::Stopped { first } => Some(first),
            },
        };
        if let Some(before) = stopped {
            within(deadline, async { tx.rollback().await.map_err(from_sqlx) }).await?;
            return Ok(BatchOutcome::NeedsSplitting { before });
        }
    }
    within(deadline, async { tx.commit().await.map_err(from_sqlx) }).await?;
    Ok(BatchOutcome::Committed)
}

/// A maintenance write whose machine is gone now, but which applied before the machine was
/// deleted (say the batch [record, delete] committed and the answer was lost), did what it
/// should: it is done, not a conflict.
async fn applied_before_a_delete(
    db: &mut PgConnection,
    write_id: Uuid,
    answer: Result<crate::domain::Machine, RegistryError>,
) -> Result<(), RegistryError> {
    match answer {
        Err(RegistryError::NotFound { uid }) => {
            if repo::maintenance_write_applied(db, write_id).await? {
                Ok(())
            } else {
                Err(RegistryError::NotFound { uid })
            }
        }
        other => other.map(drop),
    }
}

/// Applies one queued write with the same validation and SQL as the online commands.
async fn apply(
    db: &mut PgConnection,
    entry: &OutboxEntry,
    client: Option<Uuid>,
) -> Result<(), ApplyError> {
    let invalid = |fields: Vec<FieldError>| ApplyError::Conflict(Conflict::Invalid { fields });
    let result = match &entry.write {
        QueuedWrite::Create(w) => {
            let machine = w.machine.validate(Utc::now()).map_err(invalid)?;
            repo::create_machine(db, w.write_id, w.uid, &machine, client)
                .await
                .map(drop)
        }
        QueuedWrite::Update(w) => {
            let machine = w.machine.validate(Utc::now()).map_err(invalid)?;
            repo::update_machine(
                db,
                w.write_id,
                w.uid,
                w.expected_version,
                w.efficiency_seen,
                &machine,
                client,
            )
            .await
            .map(drop)
        }
        QueuedWrite::SetStatus(w) => {
            let status = OperationalStatus::parse(&w.status)
                .map_err(|m| invalid(vec![FieldError::new("status", m)]))?;
            repo::set_machine_status(db, w.write_id, w.uid, status, client)
                .await
                .map(drop)
        }
        QueuedWrite::Delete(w) => {
            match repo::delete_machine(db, w.write_id, w.uid, w.expected_version, client).await {
                // Gone, by this write earlier or by someone else: what the operator wanted holds.
                Err(RegistryError::NotFound { .. }) => Ok(()),
                other => other.map(drop),
            }
        }
        QueuedWrite::PlanMaintenance(w) => {
            let plan = w.validate().map_err(invalid)?;
            let planned = repo::plan_maintenance(db, w.write_id, w.uid, &plan, client).await;
            applied_before_a_delete(db, w.write_id, planned).await
        }
        QueuedWrite::RecordMaintenance(w) => {
            let record = w.validate(Utc::now()).map_err(invalid)?;
            let recorded = repo::record_maintenance(db, w.write_id, w.uid, &record, client).await;
            applied_before_a_delete(db, w.write_id, recorded).await
        }
        QueuedWrite::RecordShift(w) => {
            let shift = w.validate(Utc::now()).map_err(invalid)?;
            // `None`: recorded by an earlier delivery, its machine deleted since.
            repo::record_shift(db, w.write_id, w.uid, &shift, client)
                .await
                .map(drop)
        }
    };
    result.map_err(|error| match error {
        RegistryError::Unavailable(_)
        | RegistryError::Busy(_)
        | RegistryError::SchemaRefused(_) => ApplyError::Transient(error),
        RegistryError::Refused(explanation) => {
            ApplyError::Conflict(Conflict::Refused { explanation })
        }
        RegistryError::DuplicateName { name } => ApplyError::Conflict(Conflict::NameTaken { name }),
        RegistryError::StaleVersion { expected, current } => {
            ApplyError::Conflict(Conflict::ChangedSince {
                expected,
                current: *current,
            })
        }
        RegistryError::NotFound { .. } => ApplyError::Conflict(Conflict::MachineDeleted),
        RegistryError::Validation(fields) => ApplyError::Conflict(Conflict::Invalid { fields }),
        // Inside a batch, an aborted transaction reports its follow-up queries this way: the
        // batch is redone in smaller parts, where the real cause shows. Alone, the cause is
        // logged and the operator reads the app's words.
        RegistryError::Internal(message) => {
            tracing::error!(seq = entry.seq, %message, "a queued write met an unexpected error");
            ApplyError::Conflict(Conflict::Refused {
                explanation: "the database answered with an unexpected error (details in the log)"
                    .into(),
            })
        }
    })
}
