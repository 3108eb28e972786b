//! Writes. Each is one statement (one round trip, one commit) that makes the change and records
//! its `write_id` in `applied_writes` together, and does nothing when that id was already
//! recorded. When a statement changes no row, a second query tells why: already applied, gone,
//! or changed by someone else.
//!
//! Each write also records the client (one PC's outbox) that made it and the machine's version
//! before and after. An edit or delete carries the version the operator saw; it applies when the
//! machine is still at that version, or when every change since was made by the same client (see
//! [`accepted_version`]): an operator's own writes never conflict with each other.

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::row::{MachineRow, MACHINE_COLUMNS};
use crate::domain::{Machine, OperationalStatus, ValidMachine};
use crate::error::{from_sqlx, FieldError, RegistryError};

/// The guard every write carries: do nothing when this `write_id` ($1) was already applied.
const NOT_YET_APPLIED: &str = "NOT EXISTS (SELECT 1 FROM applied_writes WHERE write_id = $1)";

/// The rule for a write based on version `base` of a machine now at `current`: still the same
/// version, or every change since then was made by `client` as this database user (each
/// recorded write of that client and user that moved the version on by one, covering every step
/// from `base` to `current`; the server stamps the user, migration 6). A change by anyone else
/// (another PC, another user, another tool) leaves a step no such write covers.
pub(crate) fn accepted_version(base: &str, current: &str, uid: &str, client: &str) -> String {
    format!(
        "({current} = {base} OR ({client} IS NOT NULL AND {current} > {base} AND (
             SELECT count(DISTINCT w.version_before) FROM applied_writes w
             WHERE w.machine_uid = {uid} AND w.client_id = {client}
               AND (w.db_user IS NULL OR w.db_user = session_user)
               AND w.version_before >= {base} AND w.version_after = w.version_before + 1
               AND w.version_after <= {current}
         ) = {current} - {base}))"
    )
}

/// The efficiency an edit based on version `base` writes: `new`, or the machine's current one
/// when the edit passes over changes since its base (its own PC's, see [`accepted_version`])
/// and left the efficiency as its form showed it (`seen`): a shift entered before it moved the
/// efficiency on, and a rename queued after the shift must not put back the number the form
/// showed. A value typed, even back to an earlier one, is written.
pub(crate) fn efficiency_after_edit(new: &str, seen: &str, base: &str, current: &str) -> String {
    format!(
        "CASE WHEN {current} > {base} AND {seen} IS NOT NULL AND {new} = {seen}
         THEN m.efficiency ELSE {new} END"
    )
}

/// Wraps a change (`… RETURNING m.*, … AS version_before`, guarded by [`NOT_YET_APPLIED`]) so that
/// the same statement records the write id ($1), the client and both versions in
/// `applied_writes`, and returns the changed row.
fn recorded(kind: &'static str, client: &str, after: &str, change: &str) -> String {
    format!(
        "{change},
         recorded AS (
             INSERT INTO applied_writes (write_id, machine_uid, kind, client_id, version_before, version_after)
             SELECT $1, uid, '{kind}', {client}, version_before, {after} FROM changed
         )
         SELECT {MACHINE_COLUMNS} FROM changed"
    )
}

/// Locks the machine ($2) for the statement and reads its version: an edit's rule is checked
/// against the version it will really change, even when another writer committed meanwhile.
const TARGET: &str = "target AS (SELECT uid, version FROM machines WHERE uid = $2 FOR UPDATE)";

/// True when the error is this write's own id already recorded: a second delivery of the same
/// write (a retry after a lost answer) that ran while the first was still committing.
pub(crate) fn delivered_twice(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(|db| db.constraint() == Some("applied_writes_pkey"))
}

/// Constraint names from the migrations, mapped to what they mean to a caller.
fn constraint_error(err: sqlx::Error, name: &str) -> RegistryError {
    let constraint = match &err {
        sqlx::Error::Database(db) => db.constraint().map(str::to_owned),
        _ => None,
    };
    match constraint.as_deref() {
        Some("machines_name_lower_key" | "machines_machine_name_key") => {
            RegistryError::DuplicateName {
                name: name.to_owned(),
            }
        }
        Some("machines_uid_key") => {
            RegistryError::field("uid", "This machine id is already in use")
        }
        Some(check) if check.ends_with("_valid") || check.ends_with("_sane") => {
            let field = match check {
                "machines_name_valid" => "machine_name",
                "machines_type_valid" => "machine_type",
                "machines_status_valid" => "operational_status",
                "machines_last_maintenance_sane" => "last_maintenance",
                _ => "efficiency",
            };
            RegistryError::Validation(vec![FieldError::new(
                field,
                "The database refused this value",
            )])
        }
        _ => from_sqlx(err),
    }
}

pub async fn create_machine(
    db: &mut PgConnection,
    write_id: Uuid,
    uid: Uuid,
    machine: &ValidMachine,
    client: Option<Uuid>,
) -> Result<Machine, RegistryError> {
    let sql = recorded(
        "create",
        "$8::uuid",
        "version",
        &format!(
            "WITH changed AS (
                 INSERT INTO machines (uid, machine_name, machine_type, operational_status, efficiency, last_maintenance)
                 SELECT $2, $3, $4, $5, $6, $7 WHERE {NOT_YET_APPLIED}
                 RETURNING *, NULL::bigint AS version_before
             )"
        ),
    );
    let inserted: Result<Option<MachineRow>, sqlx::Error> = sqlx::query_as(&sql)
        .bind(write_id)
        .bind(uid)
        .bind(machine.name.as_str())
        .bind(machine.machine_type.as_str())
        .bind(machine.status.as_str())
        .bind(machine.efficiency.value())
        .bind(machine.last_maintenance)
        .bind(client)
        .fetch_optional(&mut *db)
        .await;
    match inserted {
        Ok(Some(row)) => row.try_into(),
        // The write was applied before (a retry or a replay): answer with the machine as it is.
        Ok(None) => super::get_machine(&mut *db, uid).await,
        Err(err) => {
            // Two deliveries of one create racing each other: the loser hits a unique key (name
            // or uid) once the winner has committed. That is "already applied", not an error.
            let unique_violation = err
                .as_database_error()
                .is_some_and(|db| db.code().as_deref() == Some("23505"));
            if unique_violation && write_was_applied(&mut *db, write_id).await? {
                return super::get_machine(&mut *db, uid).await;
            }
            Err(constraint_error(err, machine.name.as_str()))
        }
    }
}

pub async fn update_machine(
    db: &mut PgConnection,
    write_id: Uuid,
    uid: Uuid,
    expected_version: i64,
    efficiency_seen: Option<f64>,
    machine: &ValidMachine,
    client: Option<Uuid>,
) -> Result<Machine, RegistryError> {
    let sql = recorded(
        "update",
        "$9::uuid",
        "version",
        &format!(
            "WITH {TARGET},
             accepted AS (
                 SELECT t.uid, t.version FROM target t
                 WHERE {NOT_YET_APPLIED} AND {}
             ),
             changed AS (
                 UPDATE machines m
                 SET machine_name = $4, machine_type = $5, operational_status = $6,
                     efficiency = {},
                     last_maintenance = $8
                 FROM accepted a WHERE m.uid = a.uid
                 RETURNING m.*, a.version AS version_before
             )",
            accepted_version("$3::int8", "t.version", "t.uid", "$9::uuid"),
            efficiency_after_edit("$7::float8", "$10::float8", "$3::int8", "a.version")
        ),
    );
    let updated: Result<Option<MachineRow>, sqlx::Error> = sqlx::query_as(&sql)
        .bind(write_id)
        .bind(uid)
        .bind(expected_version)
        .bind(machine.name.as_str())
        .bind(machine.machine_type.as_str())
        .bind(machine.status.as_str())
        .bind(machine.efficiency.value())
        .bind(machine.last_maintenance)
        .bind(client)
        .bind(efficiency_seen)
        .fetch_optional(&mut *db)
        .await;
    match updated {
        Ok(Some(row)) => row.try_into(),
        Ok(None) => explain_no_change(db, write_id, uid, Some(expected_version)).await,
        Err(err) if delivered_twice(&err) => explain_no_change(db, write_id, uid, None).await,
        Err(err) => Err(constraint_error(err, machine.name.as_str())),
    }
}

pub async fn set_machine_status(
    db: &mut PgConnection,
    write_id: Uuid,
    uid: Uuid,
    status: OperationalStatus,
    client: Option<Uuid>,
) -> Result<Machine, RegistryError> {
    let sql = recorded(
        "set_status",
        "$4::uuid",
        "version",
        &format!(
            "WITH {TARGET},
             changed AS (
                 UPDATE machines m SET operational_status = $3
                 FROM target t WHERE m.uid = t.uid AND {NOT_YET_APPLIED}
                 RETURNING m.*, t.version AS version_before
             )"
        ),
    );
    let updated: Result<Option<MachineRow>, sqlx::Error> = sqlx::query_as(&sql)
        .bind(write_id)
        .bind(uid)
        .bind(status.as_str())
        .bind(client)
        .fetch_optional(&mut *db)
        .await;
    match updated {
        Ok(Some(row)) => row.try_into(),
        Ok(None) => explain_no_change(db, write_id, uid, None).await,
        Err(err) if delivered_twice(&err) => explain_no_change(db, write_id, uid, None).await,
        Err(err) => Err(from_sqlx(err)),
    }
}

/// Deletes the machine and returns it as it was.
pub async fn delete_machine(
    db: &mut PgConnection,
    write_id: Uuid,
    uid: Uuid,
    expected_version: i64,
    client: Option<Uuid>,
) -> Result<Machine, RegistryError> {
    let sql = recorded(
        "delete",
        "$4::uuid",
        "NULL::bigint",
        &format!(
            "WITH {TARGET},
             accepted AS (
                 SELECT t.uid, t.version FROM target t
                 WHERE {NOT_YET_APPLIED} AND {}
             ),
             changed AS (
                 DELETE FROM machines m USING accepted a WHERE m.uid = a.uid
                 RETURNING m.*, a.version AS version_before
             )",
            accepted_version("$3::int8", "t.version", "t.uid", "$4::uuid")
        ),
    );
    let deleted: Result<Option<MachineRow>, sqlx::Error> = sqlx::query_as(&sql)
        .bind(write_id)
        .bind(uid)
        .bind(expected_version)
        .bind(client)
        .fetch_optional(&mut *db)
        .await;
    let deleted = match deleted {
        // Deleted by another delivery of this very write: gone, as wanted.
        Err(err) if delivered_twice(&err) => return Err(RegistryError::NotFound { uid }),
        other => other.map_err(from_sqlx)?,
    };
    match deleted {
        Some(row) => row.try_into(),
        None if write_was_applied(&mut *db, write_id).await? => {
            // Deleted by this very write earlier: report the machine as gone, which it is.
            Err(RegistryError::NotFound { uid })
        }
        None => {
            let current = explain_no_change(db, write_id, uid, Some(expected_version)).await?;
            // Present and acceptable yet not deleted: a race with another writer.
            Err(RegistryError::Internal(format!(
                "delete of {uid} at version {} changed nothing",
                current.version
            )))
        }
    }
}

pub async fn write_was_applied(
    db: impl PgExecutor<'_>,
    write_id: Uuid,
) -> Result<bool, RegistryError> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM applied_writes WHERE write_id = $1)")
        .bind(write_id)
        .fetch_one(db)
        .await
        .map_err(from_sqlx)
}

/// A write changed no row: it was applied before (answer with the machine as it is now), the
/// machine is gone, or it changed since in a way this write may not pass over.
async fn explain_no_change(
    db: &mut PgConnection,
    write_id: Uuid,
    uid: Uuid,
    expected_version: Option<i64>,
) -> Result<Machine, RegistryError> {
    let applied = write_was_applied(&mut *db, write_id).await?;
    let current = super::get_machine(&mut *db, uid).await?;
    match expected_version {
        Some(expected) if !applied => Err(RegistryError::StaleVersion {
            expected,
            current: Box::new(current),
        }),
        _ => Ok(current),
    }
}
