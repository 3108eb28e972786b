use chrono::Utc;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use super::{grouped, Conflict, Outbox, OutboxEntry, QueuedWrite};
use crate::domain::OperationalStatus;
use crate::error::{from_sqlx, FieldError, RegistryError};
use crate::{repo, Registry};

/// Writes sent per server transaction: large enough that the commit's disk flush is shared by
/// many writes, small enough that one conflict costs little re-work.
const BATCH: i64 = 500;

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
    Transient(String),
}

/// Sends all pending writes, in order, until none is left or the database goes away.
///
/// Writes go in batches, each one server transaction. When a batch cannot apply as a whole (a
/// write in it conflicts), the server usually says which write stopped it: the writes before
/// it go next as a batch, then that write alone, which gets its own answer. (When the server
/// cannot say, after an error, the batch is halved instead.) One conflict among 500 writes
/// so costs three server round trips of work instead of 500.
pub async fn replay(registry: &Registry, outbox: &Outbox) -> Result<ReplayReport, RegistryError> {
    let mut report = ReplayReport::default();
    if let Err(e) = registry.ensure_schema().await {
        return interrupted(report, e);
    }
    let mut size = BATCH;
    // The write known to stop the batch being sent: once the writes before it are in, it goes
    // alone.
    let mut stopper = None;
    loop {
        let entries = outbox.pending(size).await?;
        let seqs: Vec<i64> = entries.iter().map(|e| e.seq).collect();
        match entries.as_slice() {
            [] => return Ok(report),
            [entry] => {
                let mut db = match registry.pool().acquire().await {
                    Ok(db) => db,
                    Err(e) => return interrupted(report, from_sqlx(e)),
                };
                mark_sent(outbox, &entries).await?;
                match apply(&mut db, entry).await {
                    Ok(()) => {
                        outbox.remove(&seqs).await?;
                        report.applied += 1;
                    }
                    Err(ApplyError::Conflict(conflict)) => {
                        tracing::warn!(seq = entry.seq, ?conflict, "queued write needs attention");
                        outbox.set_conflict(entry.seq, &conflict).await?;
                        report.conflicts += 1;
                    }
                    Err(ApplyError::Transient(reason)) => {
                        report.interrupted = Some(reason);
                        return Ok(report);
                    }
                }
                size = BATCH;
                stopper = None;
            }
            _ => {
                // The transaction first: writes count as sent (and are never folded into
                // again) only once they can actually reach the server.
                let tx = match registry.pool().begin().await {
                    Ok(tx) => tx,
                    Err(e) => return interrupted(report, from_sqlx(e)),
                };
                mark_sent(outbox, &entries).await?;
                match apply_in(tx, &entries).await {
                    Ok(BatchOutcome::Committed) => {
                        outbox.remove(&seqs).await?;
                        report.applied += seqs.len() as u32;
                        size = if stopper.take().is_some() { 1 } else { BATCH };
                    }
                    // Next, the writes before the one that stopped the batch (or, when that
                    // one is first, it alone); when unknown, half as many.
                    Ok(BatchOutcome::NeedsSplitting { before: Some(seq) }) => {
                        stopper = Some(seq);
                        size = (entries.iter().take_while(|e| e.seq != seq).count() as i64).max(1);
                    }
                    Ok(BatchOutcome::NeedsSplitting { before: None }) => {
                        stopper = None;
                        size = entries.len() as i64 / 2;
                    }
                    Err(e) => return interrupted(report, e),
                }
            }
        }
    }
}

/// Marks the writes never sent before as sent, durably, before they go to the server.
async fn mark_sent(outbox: &Outbox, entries: &[OutboxEntry]) -> Result<(), RegistryError> {
    let unsent: Vec<i64> = entries
        .iter()
        .filter(|e| e.attempts == 0)
        .map(|e| e.seq)
        .collect();
    if unsent.is_empty() {
        return Ok(());
    }
    outbox.mark_sent(&unsent).await
}

fn interrupted(
    mut report: ReplayReport,
    error: RegistryError,
) -> Result<ReplayReport, RegistryError> {
    match error {
        RegistryError::Unavailable(reason) | RegistryError::SchemaRefused(reason) => {
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
    apply_in(registry.pool().begin().await.map_err(from_sqlx)?, entries).await
}

async fn apply_in(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    entries: &[OutboxEntry],
) -> Result<BatchOutcome, RegistryError> {
    for step in grouped::plan(entries) {
        let stopped = match step {
            grouped::Step::One(entry) => match apply(&mut tx, entry).await {
                Ok(()) => None,
                Err(ApplyError::Transient(reason)) => {
                    return Err(RegistryError::Unavailable(reason))
                }
                Err(ApplyError::Conflict(_)) => Some(Some(entry.seq)),
            },
            group => match grouped::apply_step(&mut tx, &group).await? {
                grouped::Grouped::Applied => None,
                grouped::Grouped::Stopped { first } => Some(first),
            },
        };
        if let Some(before) = stopped {
            tx.rollback().await.map_err(from_sqlx)?;
            return Ok(BatchOutcome::NeedsSplitting { before });
        }
    }
    tx.commit().await.map_err(from_sqlx)?;
    Ok(BatchOutcome::Committed)
}

/// Applies one queued write with the same validation and SQL as the online commands.
async fn apply(db: &mut PgConnection, entry: &OutboxEntry) -> Result<(), ApplyError> {
    let invalid = |fields: Vec<FieldError>| ApplyError::Conflict(Conflict::Invalid { fields });
    let result = match &entry.write {
        QueuedWrite::Create(w) => {
            let machine = w.machine.validate(Utc::now()).map_err(invalid)?;
            repo::create_machine(db, w.write_id, w.uid, &machine)
                .await
                .map(drop)
        }
        QueuedWrite::Update(w) => {
            let machine = w.machine.validate(Utc::now()).map_err(invalid)?;
            repo::update_machine(db, w.write_id, w.uid, w.expected_version, &machine)
                .await
                .map(drop)
        }
        QueuedWrite::SetStatus(w) => {
            let status = OperationalStatus::parse(&w.status)
                .map_err(|m| invalid(vec![FieldError::new("status", m)]))?;
            repo::set_machine_status(db, w.write_id, w.uid, status)
                .await
                .map(drop)
        }
        QueuedWrite::Delete(w) => {
            match repo::delete_machine(db, w.write_id, w.uid, w.expected_version).await {
                // Gone, by this write earlier or by someone else: what the operator wanted holds.
                Err(RegistryError::NotFound { .. }) => Ok(()),
                other => other.map(drop),
            }
        }
    };
    result.map_err(|error| match error {
        RegistryError::Unavailable(reason) => ApplyError::Transient(reason),
        RegistryError::SchemaRefused(report) => ApplyError::Transient(report),
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
        // batch is redone one by one, where the real cause shows.
        RegistryError::Internal(message) => ApplyError::Conflict(Conflict::Invalid {
            fields: vec![FieldError::new("write", message)],
        }),
    })
}
