//! The maintenance plan (migration 8): reading it, a machine's log, and its three writes. The
//! two per-machine writes are one statement each, recorded in `applied_writes` like a machine
//! write (a replay is recognised by its id and changes nothing).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::machines_write::delivered_twice as machines_write_delivered_twice;
use super::row::stored_status;
use crate::domain::{
    DueState, Machine, MachineType, MaintenancePlan, MaintenanceRecord, PlannedMaintenance,
    TypeInterval, ValidPlan, ValidRecord, DUE_SOON_DAYS,
};
use crate::error::{from_sqlx, FieldError, RegistryError};

#[derive(sqlx::FromRow)]
struct PlanRow {
    uid: Uuid,
    id: i32,
    machine_name: String,
    machine_type: String,
    operational_status: String,
    last_maintenance: Option<DateTime<Utc>>,
    machine_interval_days: Option<i32>,
    type_interval_days: Option<i32>,
    planned_for: Option<NaiveDate>,
}

/// Every machine with its plan, assessed as of `now`, and the types' default intervals.
pub async fn maintenance_plan(
    db: &mut PgConnection,
    now: DateTime<Utc>,
) -> Result<MaintenancePlan, RegistryError> {
    let rows: Vec<PlanRow> = sqlx::query_as(
        "SELECT m.uid, m.id, m.machine_name, m.machine_type, m.operational_status,
                CASE WHEN m.last_maintenance >= '1900-01-01 00:00:00+00'
                      AND m.last_maintenance < '2200-01-01 00:00:00+00'
                     THEN m.last_maintenance END AS last_maintenance,
                p.interval_days AS machine_interval_days, t.interval_days AS type_interval_days,
                p.planned_for
         FROM machines m
         LEFT JOIN maintenance_plans p ON p.machine_uid = m.uid
         LEFT JOIN maintenance_type_intervals t ON t.machine_type = m.machine_type",
    )
    .fetch_all(&mut *db)
    .await
    .map_err(from_sqlx)?;
    let type_intervals: Vec<(String, i32, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT machine_type, interval_days, updated_by, updated_at
         FROM maintenance_type_intervals ORDER BY lower(machine_type), machine_type",
    )
    .fetch_all(&mut *db)
    .await
    .map_err(from_sqlx)?;
    let machines = rows
        .into_iter()
        .map(|row| {
            let operational_status = stored_status(row.id, &row.operational_status)?;
            Ok(PlannedMaintenance {
                uid: row.uid,
                id: row.id,
                machine_name: row.machine_name,
                machine_type: row.machine_type,
                operational_status,
                last_maintenance: row.last_maintenance,
                machine_interval_days: row.machine_interval_days,
                type_interval_days: row.type_interval_days,
                next_due: None,
                planned_for: row.planned_for,
                state: DueState::Unscheduled,
            })
        })
        .collect::<Result<Vec<_>, RegistryError>>()?;
    let mut plan = MaintenancePlan {
        as_of: now,
        due_soon_days: DUE_SOON_DAYS as i32,
        machines,
        type_intervals: type_intervals
            .into_iter()
            .map(
                |(machine_type, interval_days, updated_by, updated_at)| TypeInterval {
                    machine_type,
                    interval_days,
                    updated_by,
                    updated_at,
                },
            )
            .collect(),
        cached_at: None,
    };
    plan.assess(now);
    Ok(plan)
}

/// A machine's maintenance log, newest first (kept after the machine is deleted).
pub async fn maintenance_log(
    db: impl PgExecutor<'_>,
    uid: Uuid,
    limit: i64,
) -> Result<Vec<MaintenanceRecord>, RegistryError> {
    sqlx::query_as::<_, LogRow>(
        "SELECT id, machine_uid, machine_name, done_at, note, done_by, recorded_at
         FROM maintenance_log WHERE machine_uid = $1
         ORDER BY done_at DESC, id DESC LIMIT $2",
    )
    .bind(uid)
    .bind(limit)
    .fetch_all(db)
    .await
    .map_err(from_sqlx)
    .map(|rows| rows.into_iter().map(MaintenanceRecord::from).collect())
}

#[derive(sqlx::FromRow)]
struct LogRow {
    id: i64,
    machine_uid: Uuid,
    machine_name: String,
    done_at: DateTime<Utc>,
    note: String,
    done_by: String,
    recorded_at: DateTime<Utc>,
}

impl From<LogRow> for MaintenanceRecord {
    fn from(row: LogRow) -> Self {
        MaintenanceRecord {
            id: row.id,
            machine_uid: row.machine_uid,
            machine_name: row.machine_name,
            done_at: row.done_at,
            note: row.note,
            done_by: row.done_by,
            recorded_at: row.recorded_at,
        }
    }
}

/// Sets a machine's own interval, planned day or both (for each, the last plan wins), and answers
/// with the machine. A second delivery of the same write changes nothing.
pub async fn plan_maintenance(
    db: &mut PgConnection,
    write_id: Uuid,
    uid: Uuid,
    plan: &ValidPlan,
    client: Option<Uuid>,
) -> Result<Machine, RegistryError> {
    let planned: Result<i64, sqlx::Error> = sqlx::query_scalar(
        "WITH changed AS (
             INSERT INTO maintenance_plans AS p (machine_uid, interval_days, planned_for)
             SELECT $2, $3, $4
             WHERE NOT EXISTS (SELECT 1 FROM applied_writes WHERE write_id = $1)
               AND EXISTS (SELECT 1 FROM machines WHERE uid = $2)
             ON CONFLICT (machine_uid) DO UPDATE
                 SET interval_days = CASE WHEN $6 THEN EXCLUDED.interval_days ELSE p.interval_days END,
                     planned_for = CASE WHEN $7 THEN EXCLUDED.planned_for ELSE p.planned_for END
             RETURNING p.machine_uid
         ), recorded AS (
             INSERT INTO applied_writes (write_id, machine_uid, kind, client_id)
             SELECT $1, machine_uid, 'plan_maintenance', $5 FROM changed
         )
         SELECT count(*) FROM changed",
    )
    .bind(write_id)
    .bind(uid)
    .bind(plan.interval_days.flatten())
    .bind(plan.planned_for.flatten())
    .bind(client)
    .bind(plan.interval_days.is_some())
    .bind(plan.planned_for.is_some())
    .fetch_one(&mut *db)
    .await;
    match planned {
        // Applied now, or before (a retry, or another delivery committing meanwhile): either way
        // the machine is answered as it is; one that is gone is not found.
        Ok(_) => super::get_machine(&mut *db, uid).await,
        Err(err) if delivered_twice(&err) => super::get_machine(&mut *db, uid).await,
        Err(err) => Err(plan_error(err)),
    }
}

/// Logs maintenance done and moves the machine's last maintenance on to it, unless a later one is
/// already recorded (a sane one: a value another tool stored as 'infinity' is replaced); a
/// planned day the record fulfils is cleared. All of it in the owner's function
/// `mes_record_maintenance` (migration 8), one statement; a second delivery of the same write
/// changes nothing.
pub async fn record_maintenance(
    db: &mut PgConnection,
    write_id: Uuid,
    uid: Uuid,
    record: &ValidRecord,
    client: Option<Uuid>,
) -> Result<Machine, RegistryError> {
    let answered: Result<String, sqlx::Error> =
        sqlx::query_scalar("SELECT public.mes_record_maintenance($1, $2, $3, $4, $5)")
            .bind(write_id)
            .bind(uid)
            .bind(record.done_at)
            .bind(&record.note)
            .bind(client)
            .fetch_one(&mut *db)
            .await;
    match answered {
        Ok(answer) if answer == "missing" => Err(RegistryError::NotFound { uid }),
        // Recorded now, or before (a retry, or another delivery committing meanwhile).
        Ok(_) => super::get_machine(&mut *db, uid).await,
        Err(err) if delivered_twice(&err) => super::get_machine(&mut *db, uid).await,
        Err(err) => Err(plan_error(err)),
    }
}

/// True when a maintenance write (`write_id`) was applied before: a replay of it that finds its
/// machine gone (deleted after it applied) has done what it should.
pub async fn maintenance_write_applied(
    db: &mut PgConnection,
    write_id: Uuid,
) -> Result<bool, RegistryError> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM applied_writes WHERE write_id = $1)
             OR EXISTS (SELECT 1 FROM maintenance_log WHERE write_id = $1)",
    )
    .bind(write_id)
    .fetch_one(db)
    .await
    .map_err(from_sqlx)
}

/// Sets (or removes) a machine type's default interval.
pub async fn set_type_interval(
    db: impl PgExecutor<'_>,
    machine_type: &MachineType,
    interval_days: Option<i32>,
) -> Result<(), RegistryError> {
    let query = match interval_days {
        Some(days) => sqlx::query(
            "INSERT INTO maintenance_type_intervals (machine_type, interval_days) VALUES ($1, $2)
             ON CONFLICT (machine_type) DO UPDATE SET interval_days = EXCLUDED.interval_days",
        )
        .bind(machine_type.as_str())
        .bind(days),
        None => sqlx::query("DELETE FROM maintenance_type_intervals WHERE machine_type = $1")
            .bind(machine_type.as_str()),
    };
    query.execute(db).await.map_err(from_sqlx)?;
    Ok(())
}

/// Two deliveries of one write racing: the later one hits the id the first recorded.
fn delivered_twice(err: &sqlx::Error) -> bool {
    machines_write_delivered_twice(err)
        || err
            .as_database_error()
            .is_some_and(|db| db.constraint() == Some("maintenance_log_write_id_key"))
}

/// The plan's CHECK constraints, mapped to the field they guard.
fn plan_error(err: sqlx::Error) -> RegistryError {
    let field = match err.as_database_error().and_then(|db| db.constraint()) {
        Some("maintenance_plans_interval_valid") => "interval_days",
        Some("maintenance_plans_planned_sane") => "planned_for",
        Some("maintenance_log_done_sane" | "machines_last_maintenance_sane") => "done_at",
        Some("maintenance_log_note_valid") => "note",
        _ => return from_sqlx(err),
    };
    RegistryError::Validation(vec![FieldError::new(
        field,
        "The database refused this value",
    )])
}
