//! Many writes of one kind as one statement (replay's fast path). Each row keeps the guarantees
//! of its one-write counterpart in `machines_write`: it records its `write_id` in the same
//! statement and is skipped when that id was already applied. Each function returns the ids of
//! the writes now applied (now or before). A write that cannot apply is left out rather than
//! failing the statement where the cause is foreseeable (name taken, version moved on, machine
//! gone), so the caller learns which one it is, rolls back and sends that one alone.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::machines_write::{accepted_version, efficiency_after_edit};
use crate::domain::{OperationalStatus, ValidMachine};
use crate::error::{from_sqlx, RegistryError};

pub struct BatchCreate<'a> {
    pub write_id: Uuid,
    pub uid: Uuid,
    pub machine: &'a ValidMachine,
}

pub struct BatchUpdate<'a> {
    pub write_id: Uuid,
    pub uid: Uuid,
    pub expected_version: i64,
    /// See [`crate::domain::UpdateMachine::efficiency_seen`].
    pub efficiency_seen: Option<f64>,
    pub machine: &'a ValidMachine,
}

pub struct BatchStatus {
    pub write_id: Uuid,
    pub uid: Uuid,
    pub status: OperationalStatus,
}

pub struct BatchDelete {
    pub write_id: Uuid,
    pub uid: Uuid,
    pub expected_version: i64,
}

/// Every batch statement ends so: the writes it applied (its `done` CTE) and those applied before.
const DONE_OR_BEFORE: &str = "SELECT write_id FROM done
     UNION ALL
     SELECT write_id FROM input WHERE write_id NOT IN (SELECT write_id FROM fresh)";

/// The CTEs every batch starts with: `input` (the unnested arrays) and `fresh` (the rows whose
/// write was not applied before).
fn with_fresh(columns: &str, arrays: &str) -> String {
    format!(
        "WITH input AS (SELECT * FROM unnest({arrays}) AS t(write_id, uid{columns})),
         fresh AS (
             SELECT input.* FROM input
             WHERE NOT EXISTS (SELECT 1 FROM applied_writes a WHERE a.write_id = input.write_id)
         )"
    )
}

/// Column arrays of validated machines, in the order the batch statements bind them.
#[derive(Default)]
struct MachineColumns {
    names: Vec<String>,
    types: Vec<String>,
    statuses: Vec<&'static str>,
    efficiencies: Vec<f64>,
    last_maintenance: Vec<DateTime<Utc>>,
}

impl MachineColumns {
    fn push(&mut self, machine: &ValidMachine) {
        self.names.push(machine.name.as_str().to_owned());
        self.types.push(machine.machine_type.as_str().to_owned());
        self.statuses.push(machine.status.as_str());
        self.efficiencies.push(machine.efficiency.value());
        self.last_maintenance.push(machine.last_maintenance);
    }
}

pub async fn create_machines(
    db: &mut PgConnection,
    writes: &[BatchCreate<'_>],
    client: Option<Uuid>,
) -> Result<Vec<Uuid>, RegistryError> {
    let mut columns = MachineColumns::default();
    for write in writes {
        columns.push(write.machine);
    }
    let sql = format!(
        "{}, inserted AS (
             INSERT INTO machines (uid, machine_name, machine_type, operational_status, efficiency, last_maintenance)
             SELECT uid, name, machine_type, status, efficiency, last_maintenance FROM fresh
             ON CONFLICT DO NOTHING
             RETURNING uid, version
         ), done AS (
             SELECT fresh.write_id, fresh.uid, inserted.version FROM fresh JOIN inserted USING (uid)
         ), recorded AS (
             INSERT INTO applied_writes (write_id, machine_uid, kind, client_id, version_before, version_after)
             SELECT write_id, uid, 'create', $8::uuid, NULL, version FROM done
         )
         {DONE_OR_BEFORE}",
        with_fresh(
            ", name, machine_type, status, efficiency, last_maintenance",
            "$1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::timestamptz[]",
        )
    );
    sqlx::query_scalar(&sql)
        .bind(writes.iter().map(|w| w.write_id).collect::<Vec<_>>())
        .bind(writes.iter().map(|w| w.uid).collect::<Vec<_>>())
        .bind(&columns.names)
        .bind(&columns.types)
        .bind(&columns.statuses)
        .bind(&columns.efficiencies)
        .bind(&columns.last_maintenance)
        .bind(client)
        .fetch_all(db)
        .await
        .map_err(from_sqlx)
}

/// Updates machines still at their expected versions. An edit whose name another machine holds
/// now, or that another edit of the batch also takes, is left out. That includes a rename onto
/// the name of a machine this batch renames away: whether it would succeed depends on the order
/// the server visits the rows in (the name index is checked row by row), and in queue order it
/// may have to fail, so it goes alone.
pub async fn update_machines(
    db: &mut PgConnection,
    writes: &[BatchUpdate<'_>],
    client: Option<Uuid>,
) -> Result<Vec<Uuid>, RegistryError> {
    let mut columns = MachineColumns::default();
    for write in writes {
        columns.push(write.machine);
    }
    let sql = format!(
        "{}, target AS (
             SELECT m.uid, m.version FROM machines m JOIN fresh f USING (uid) FOR UPDATE OF m
         ), blocked AS (
             SELECT f.uid FROM fresh f
             WHERE EXISTS (SELECT 1 FROM machines m
                           WHERE lower(m.machine_name) = lower(f.name) AND m.uid <> f.uid)
                OR EXISTS (SELECT 1 FROM fresh g WHERE lower(g.name) = lower(f.name) AND g.uid <> f.uid)
         ), updated AS (
             UPDATE machines m
             SET machine_name = f.name, machine_type = f.machine_type, operational_status = f.status,
                 efficiency = {}, last_maintenance = f.last_maintenance
             FROM fresh f JOIN target t USING (uid)
             WHERE m.uid = f.uid AND {}
               AND f.uid NOT IN (SELECT uid FROM blocked)
             RETURNING f.write_id, m.uid, t.version AS version_before, m.version AS version_after
         ), done AS (SELECT * FROM updated), recorded AS (
             INSERT INTO applied_writes (write_id, machine_uid, kind, client_id, version_before, version_after)
             SELECT write_id, uid, 'update', $9::uuid, version_before, version_after FROM done
         )
         {DONE_OR_BEFORE}",
        with_fresh(
            ", expected_version, name, machine_type, status, efficiency, last_maintenance, efficiency_seen",
            "$1::uuid[], $2::uuid[], $3::int8[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::timestamptz[], $10::float8[]",
        ),
        efficiency_after_edit("f.efficiency", "f.efficiency_seen", "f.expected_version", "t.version"),
        accepted_version("f.expected_version", "t.version", "t.uid", "$9::uuid"),
    );
    sqlx::query_scalar(&sql)
        .bind(writes.iter().map(|w| w.write_id).collect::<Vec<_>>())
        .bind(writes.iter().map(|w| w.uid).collect::<Vec<_>>())
        .bind(
            writes
                .iter()
                .map(|w| w.expected_version)
                .collect::<Vec<_>>(),
        )
        .bind(&columns.names)
        .bind(&columns.types)
        .bind(&columns.statuses)
        .bind(&columns.efficiencies)
        .bind(&columns.last_maintenance)
        .bind(client)
        .bind(writes.iter().map(|w| w.efficiency_seen).collect::<Vec<_>>())
        .fetch_all(db)
        .await
        .map_err(from_sqlx)
}

/// Sets statuses; the machines must be distinct (one UPDATE sets a row once).
pub async fn set_machine_statuses(
    db: &mut PgConnection,
    writes: &[BatchStatus],
    client: Option<Uuid>,
) -> Result<Vec<Uuid>, RegistryError> {
    let sql = format!(
        "{}, target AS (
             SELECT m.uid, m.version FROM machines m JOIN fresh f USING (uid) FOR UPDATE OF m
         ), updated AS (
             UPDATE machines m SET operational_status = f.status
             FROM fresh f JOIN target t USING (uid) WHERE m.uid = f.uid
             RETURNING f.write_id, m.uid, t.version AS version_before, m.version AS version_after
         ), done AS (SELECT * FROM updated), recorded AS (
             INSERT INTO applied_writes (write_id, machine_uid, kind, client_id, version_before, version_after)
             SELECT write_id, uid, 'set_status', $4::uuid, version_before, version_after FROM done
         )
         {DONE_OR_BEFORE}",
        with_fresh(", status", "$1::uuid[], $2::uuid[], $3::text[]")
    );
    sqlx::query_scalar(&sql)
        .bind(writes.iter().map(|w| w.write_id).collect::<Vec<_>>())
        .bind(writes.iter().map(|w| w.uid).collect::<Vec<_>>())
        .bind(writes.iter().map(|w| w.status.as_str()).collect::<Vec<_>>())
        .bind(client)
        .fetch_all(db)
        .await
        .map_err(from_sqlx)
}

/// Deletes machines still at their expected versions. A machine already gone counts as done,
/// as it does for one queued delete: what the operator wanted holds.
pub async fn delete_machines(
    db: &mut PgConnection,
    writes: &[BatchDelete],
    client: Option<Uuid>,
) -> Result<Vec<Uuid>, RegistryError> {
    // Every part of the statement sees the table as it was before it, so `gone` holds only the
    // machines missing beforehand, never those this statement deletes.
    let sql = format!(
        "{}, target AS (
             SELECT m.uid, m.version FROM machines m JOIN fresh f USING (uid) FOR UPDATE OF m
         ), deleted AS (
             DELETE FROM machines m USING fresh f JOIN target t USING (uid)
             WHERE m.uid = f.uid AND {}
             RETURNING f.write_id, m.uid, t.version AS version_before
         ), recorded AS (
             INSERT INTO applied_writes (write_id, machine_uid, kind, client_id, version_before, version_after)
             SELECT write_id, uid, 'delete', $4::uuid, version_before, NULL FROM deleted
         ), done AS (
             SELECT write_id FROM deleted
             UNION ALL
             SELECT f.write_id FROM fresh f WHERE NOT EXISTS (SELECT 1 FROM machines m WHERE m.uid = f.uid)
         )
         {DONE_OR_BEFORE}",
        with_fresh(", expected_version", "$1::uuid[], $2::uuid[], $3::int8[]"),
        accepted_version("f.expected_version", "t.version", "t.uid", "$4::uuid"),
    );
    sqlx::query_scalar(&sql)
        .bind(writes.iter().map(|w| w.write_id).collect::<Vec<_>>())
        .bind(writes.iter().map(|w| w.uid).collect::<Vec<_>>())
        .bind(
            writes
                .iter()
                .map(|w| w.expected_version)
                .collect::<Vec<_>>(),
        )
        .bind(client)
        .fetch_all(db)
        .await
        .map_err(from_sqlx)
}
