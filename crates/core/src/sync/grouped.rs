//! Replay's fast path: a run of consecutive creates, or of status changes on distinct machines,
//! goes to the server as one multi-row statement instead of one round trip per write. Each row
//! still records its `write_id` in the same statement and skips writes already applied. Any
//! surprise (a conflict, a machine gone, an error) makes the caller redo the batch one write at
//! a time, where each write gets its own answer.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{OutboxEntry, QueuedWrite};
use crate::domain::OperationalStatus;
use crate::error::{from_sqlx, RegistryError};

/// How a grouped statement went.
pub(super) enum Grouped {
    /// Every write in the run is now applied (now or before).
    Applied,
    /// Not all of them could apply: redo one by one.
    Fallback,
}

/// The length of the run of groupable writes starting at `entries[0]` (1 when not groupable).
pub(super) fn run_length(entries: &[OutboxEntry]) -> usize {
    let Some(first) = entries.first() else {
        return 0;
    };
    match &first.write {
        QueuedWrite::Create(_) => entries
            .iter()
            .take_while(|e| matches!(e.write, QueuedWrite::Create(_)))
            .count(),
        QueuedWrite::SetStatus(_) => {
            // One UPDATE sets each row once: a second change of the same machine ends the run.
            let mut seen = std::collections::HashSet::new();
            entries
                .iter()
                .take_while(|e| matches!(&e.write, QueuedWrite::SetStatus(w) if seen.insert(w.uid)))
                .count()
        }
        _ => 1,
    }
}

pub(super) async fn apply_run(
    db: &mut PgConnection,
    run: &[OutboxEntry],
) -> Result<Grouped, RegistryError> {
    match run.first().map(|e| &e.write) {
        Some(QueuedWrite::Create(_)) => creates(db, run).await,
        Some(QueuedWrite::SetStatus(_)) => statuses(db, run).await,
        _ => Ok(Grouped::Fallback),
    }
}

async fn creates(db: &mut PgConnection, run: &[OutboxEntry]) -> Result<Grouped, RegistryError> {
    let (mut write_ids, mut uids, mut names, mut types, mut statuses, mut efficiencies, mut lasts) = (
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        Vec::<DateTime<Utc>>::new(),
    );
    for entry in run {
        let QueuedWrite::Create(w) = &entry.write else {
            return Ok(Grouped::Fallback);
        };
        let Ok(machine) = w.machine.validate(Utc::now()) else {
            return Ok(Grouped::Fallback);
        };
        write_ids.push(w.write_id);
        uids.push(w.uid);
        names.push(machine.name.as_str().to_owned());
        types.push(machine.machine_type.as_str().to_owned());
        statuses.push(machine.status.as_str().to_owned());
        efficiencies.push(machine.efficiency.value());
        lasts.push(machine.last_maintenance);
    }
    let applied: Result<i64, sqlx::Error> = sqlx::query_scalar(
        "WITH input AS (
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::timestamptz[])
                AS t(write_id, uid, name, machine_type, status, efficiency, last_maintenance)
        ), fresh AS (
            SELECT input.* FROM input
            WHERE NOT EXISTS (SELECT 1 FROM applied_writes a WHERE a.write_id = input.write_id)
        ), inserted AS (
            INSERT INTO machines (uid, machine_name, machine_type, operational_status, efficiency, last_maintenance)
            SELECT uid, name, machine_type, status, efficiency, last_maintenance FROM fresh
            RETURNING uid
        ), recorded AS (
            INSERT INTO applied_writes (write_id, machine_uid, kind)
            SELECT fresh.write_id, fresh.uid, 'create' FROM fresh JOIN inserted USING (uid)
        )
        SELECT (SELECT count(*) FROM inserted) + (SELECT count(*) FROM input) - (SELECT count(*) FROM fresh)",
    )
    .bind(&write_ids)
    .bind(&uids)
    .bind(&names)
    .bind(&types)
    .bind(&statuses)
    .bind(&efficiencies)
    .bind(&lasts)
    .fetch_one(db)
    .await;
    outcome(applied, run.len())
}

async fn statuses(db: &mut PgConnection, run: &[OutboxEntry]) -> Result<Grouped, RegistryError> {
    let (mut write_ids, mut uids, mut statuses): (Vec<Uuid>, Vec<Uuid>, Vec<&str>) =
        (vec![], vec![], vec![]);
    for entry in run {
        let QueuedWrite::SetStatus(w) = &entry.write else {
            return Ok(Grouped::Fallback);
        };
        let Ok(status) = OperationalStatus::parse(&w.status) else {
            return Ok(Grouped::Fallback);
        };
        write_ids.push(w.write_id);
        uids.push(w.uid);
        statuses.push(status.as_str());
    }
    let applied: Result<i64, sqlx::Error> = sqlx::query_scalar(
        "WITH input AS (
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS t(write_id, uid, status)
        ), fresh AS (
            SELECT input.* FROM input
            WHERE NOT EXISTS (SELECT 1 FROM applied_writes a WHERE a.write_id = input.write_id)
        ), updated AS (
            UPDATE machines m SET operational_status = fresh.status
            FROM fresh WHERE m.uid = fresh.uid
            RETURNING fresh.write_id, m.uid
        ), recorded AS (
            INSERT INTO applied_writes (write_id, machine_uid, kind)
            SELECT write_id, uid, 'set_status' FROM updated
        )
        SELECT (SELECT count(*) FROM updated) + (SELECT count(*) FROM input) - (SELECT count(*) FROM fresh)",
    )
    .bind(&write_ids)
    .bind(&uids)
    .bind(&statuses)
    .fetch_one(db)
    .await;
    outcome(applied, run.len())
}

/// All applied → done; fewer (a machine gone) or a database error → one by one; the database
/// away → the caller's transient error.
fn outcome(applied: Result<i64, sqlx::Error>, expected: usize) -> Result<Grouped, RegistryError> {
    match applied {
        Ok(count) if count == expected as i64 => Ok(Grouped::Applied),
        Ok(_) => Ok(Grouped::Fallback),
        Err(e) => match from_sqlx(e) {
            RegistryError::Unavailable(reason) => Err(RegistryError::Unavailable(reason)),
            _ => Ok(Grouped::Fallback),
        },
    }
}
