//! Shift records, their stops and the reason list (migration 12); OEE sums over a range.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::domain::{
    LossCategory, LossReason, NewLossReason, OeeGroup, OeeGrouping, OeeTotals, TimeRange,
    ValidShift,
};
use crate::domain::{Machine, MachineType, TypeCycleTime};
use crate::error::{from_sqlx, FieldError, RegistryError};

/// The machine as it is once its shift is recorded (its efficiency may have followed it);
/// `None` when it was deleted since (a shift recorded before, replayed after the delete).
async fn machine_now(db: &mut PgConnection, uid: Uuid) -> Result<Option<Machine>, RegistryError> {
    match super::get_machine(&mut *db, uid).await {
        Ok(machine) => Ok(Some(machine)),
        Err(RegistryError::NotFound { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}

fn category_name(category: LossCategory) -> &'static str {
    category.as_str()
}

pub(crate) fn category_of(name: &str) -> Option<LossCategory> {
    LossCategory::ALL
        .into_iter()
        .find(|c| category_name(*c) == name)
}

fn reason_from(row: &sqlx::postgres::PgRow) -> Result<LossReason, RegistryError> {
    let category: String = row.try_get("category").map_err(from_sqlx)?;
    Ok(LossReason {
        id: row.try_get("id").map_err(from_sqlx)?,
        name: row.try_get("name").map_err(from_sqlx)?,
        category: category_of(&category).ok_or_else(|| {
            RegistryError::Internal(format!("unknown loss category {category:?}"))
        })?,
        built_in: row.try_get("built_in").map_err(from_sqlx)?,
        retired: row
            .try_get::<Option<DateTime<Utc>>, _>("retired_at")
            .map_err(from_sqlx)?
            .is_some(),
    })
}

/// Every reason, retired ones too (records name them), by loss and name.
pub async fn loss_reasons(db: &mut PgConnection) -> Result<Vec<LossReason>, RegistryError> {
    let rows = sqlx::query(
        "SELECT id, name, category, built_in, retired_at FROM loss_reasons
          ORDER BY array_position(ARRAY['breakdown', 'setup_adjustment', 'small_stop'], category), lower(name)",
    )
    .fetch_all(&mut *db)
    .await
    .map_err(from_sqlx)?;
    rows.iter().map(reason_from).collect()
}

pub async fn add_loss_reason(
    db: &mut PgConnection,
    reason: &NewLossReason,
) -> Result<LossReason, RegistryError> {
    let added = sqlx::query(
        "INSERT INTO loss_reasons (name, category) VALUES ($1, $2)
         RETURNING id, name, category, built_in, retired_at",
    )
    .bind(&reason.name)
    .bind(category_name(reason.category))
    .fetch_one(&mut *db)
    .await;
    match added {
        Ok(row) => reason_from(&row),
        Err(err)
            if err
                .as_database_error()
                .is_some_and(|e| e.constraint() == Some("loss_reasons_name_key")) =>
        {
            Err(RegistryError::field(
                "name",
                "A reason of this name exists (retired reasons keep their names).",
            ))
        }
        Err(err) => Err(from_sqlx(err)),
    }
}

/// Retires a reason (no longer offered; kept for the records that name it). Retiring twice is
/// the same as once.
pub async fn retire_loss_reason(
    db: &mut PgConnection,
    id: Uuid,
) -> Result<LossReason, RegistryError> {
    let row = sqlx::query(
        "UPDATE loss_reasons SET retired_at = coalesce(retired_at, now()) WHERE id = $1
         RETURNING id, name, category, built_in, retired_at",
    )
    .bind(id)
    .fetch_optional(&mut *db)
    .await
    .map_err(from_sqlx)?;
    match row {
        Some(row) => reason_from(&row),
        None => Err(RegistryError::field("id", "No such reason.")),
    }
}

/// Records a shift and answers the machine as it is now (its efficiency may have followed the
/// shift); `None` when the shift was recorded before and its machine deleted since.
pub async fn record_shift(
    db: &mut PgConnection,
    write_id: Uuid,
    uid: Uuid,
    shift: &ValidShift,
    client: Option<Uuid>,
) -> Result<Option<Machine>, RegistryError> {
    insert_shift(db, write_id, uid, shift, client).await?;
    machine_now(db, shift.machine_uid).await
}

/// Records a shift and its stops in one statement and one round trip (all or nothing): each
/// downtime's reason must exist, not be retired and be of the loss the form counted it as, or
/// nothing is kept. A write delivered twice (its `write_id` recorded) is answered as recorded;
/// a machine that is gone is `NotFound`.
pub async fn insert_shift(
    db: &mut PgConnection,
    write_id: Uuid,
    uid: Uuid,
    shift: &ValidShift,
    client: Option<Uuid>,
) -> Result<(), RegistryError> {
    let totals = shift.totals();
    let stops: Vec<_> = shift
        .planned_stops
        .iter()
        .map(|s| (true, s))
        .chain(shift.downtime.iter().map(|s| (false, s)))
        .collect();
    let seqs: Vec<i32> = (0..stops.len() as i32).collect();
    let planned: Vec<bool> = stops.iter().map(|(p, _)| *p).collect();
    let starts: Vec<Option<DateTime<Utc>>> =
        stops.iter().map(|(_, s)| s.span.map(|t| t.0)).collect();
    let ends: Vec<Option<DateTime<Utc>>> = stops.iter().map(|(_, s)| s.span.map(|t| t.1)).collect();
    let seconds: Vec<f64> = stops.iter().map(|(_, s)| s.seconds).collect();
    let reasons: Vec<Option<Uuid>> = stops.iter().map(|(_, s)| s.reason_id).collect();
    let categories: Vec<Option<&str>> = stops
        .iter()
        .map(|(_, s)| s.category.map(category_name))
        .collect();
    let recorded = sqlx::query(
        "WITH already AS (
             -- A replay finds its record whatever changed since (a reason retired, the
             -- machine deleted): nothing else is checked then.
             SELECT write_id FROM shift_records WHERE write_id = $2 OR uid = $1
         ), stops AS (
             SELECT t.*, r.id AS known, r.name AS reason_name, r.category AS reason_category,
                    r.retired_at
               FROM unnest($15::int[], $16::bool[], $17::timestamptz[], $18::timestamptz[],
                           $19::float8[], $20::uuid[], $21::text[])
                        AS t(seq, planned, started_at, ended_at, seconds, reason_id, category)
               LEFT JOIN loss_reasons r ON r.id = t.reason_id
         ), bad AS (
             SELECT seq, reason_name,
                    CASE WHEN known IS NULL THEN 'unknown'
                         WHEN retired_at IS NOT NULL THEN 'retired' ELSE 'other loss' END AS why
               FROM stops
              WHERE NOT planned AND NOT EXISTS (SELECT 1 FROM already)
                AND (known IS NULL OR retired_at IS NOT NULL OR reason_category <> category)
         ), machine AS (
             -- Locked first, as the shift's own triggers will lock it (migration 15 moves its
             -- efficiency; one lock order, no deadlock with another entry of the machine).
             SELECT uid, machine_name, machine_type FROM machines
              WHERE uid = $3 AND NOT EXISTS (SELECT 1 FROM bad)
                AND NOT EXISTS (SELECT 1 FROM already)
                FOR UPDATE
         ), shift AS (
             INSERT INTO shift_records (uid, write_id, machine_uid, machine_name, machine_type,
                 started_at, ended_at, planned_busy_s, breakdown_s, setup_s, small_stop_s,
                 ideal_cycle_s, total_count, startup_rejects, production_rejects, performance_reason)
             SELECT $1, $2, m.uid, m.machine_name, m.machine_type, $4, $5, $6, $7, $8, $9,
                    $10, $11, $12, $13, $14
               FROM machine m
             RETURNING uid, machine_uid
         ), kept AS (
             INSERT INTO shift_stops (shift_uid, seq, planned, started_at, ended_at, seconds,
                                      reason_id, category)
             SELECT s.uid, t.seq, t.planned, t.started_at, t.ended_at, t.seconds, t.reason_id,
                    t.category
               FROM shift s, stops t
             RETURNING 1
         ), recorded AS (
             -- The versions it moved the machine between are filled in by the shift's trigger.
             INSERT INTO applied_writes (write_id, machine_uid, kind, client_id)
             SELECT $2, s.machine_uid, 'record_shift', $22 FROM shift s
         )
         SELECT (SELECT count(*) FROM shift) AS shifts,
                (SELECT count(*) FROM already WHERE write_id = $2) AS recorded_before,
                (SELECT count(*) FROM already) AS taken,
                coalesce((SELECT array_agg(seq ORDER BY seq) FROM bad), '{}') AS bad_seqs,
                coalesce((SELECT array_agg(why ORDER BY seq) FROM bad), '{}') AS bad_whys,
                coalesce((SELECT array_agg(coalesce(reason_name, '') ORDER BY seq) FROM bad), '{}')
                    AS bad_names",
    )
    .bind(uid)
    .bind(write_id)
    .bind(shift.machine_uid)
    .bind(shift.start)
    .bind(shift.end)
    .bind(totals.planned_busy_s)
    .bind(totals.breakdown_s)
    .bind(totals.setup_s)
    .bind(totals.small_stop_s)
    .bind(shift.ideal_cycle_s)
    .bind(shift.total_count)
    .bind(shift.startup_rejects)
    .bind(shift.production_rejects)
    .bind(shift.performance_reason.as_deref())
    .bind(&seqs)
    .bind(&planned)
    .bind(&starts)
    .bind(&ends)
    .bind(&seconds)
    .bind(&reasons)
    .bind(&categories)
    .bind(client)
    .fetch_one(&mut *db)
    .await;
    match recorded {
        Ok(row) => {
            if row
                .try_get::<i64, _>("recorded_before")
                .map_err(from_sqlx)?
                > 0
            {
                // Recorded before; the machine may have been deleted since.
                return Ok(());
            }
            if row.try_get::<i64, _>("taken").map_err(from_sqlx)? > 0 {
                return Err(RegistryError::Refused(
                    "this shift record was entered already".into(),
                ));
            }
            let bad: Vec<i32> = row.try_get("bad_seqs").map_err(from_sqlx)?;
            if !bad.is_empty() {
                let whys: Vec<String> = row.try_get("bad_whys").map_err(from_sqlx)?;
                let names: Vec<String> = row.try_get("bad_names").map_err(from_sqlx)?;
                let first_downtime = shift.planned_stops.len() as i32;
                let errors = bad
                    .iter()
                    .zip(whys.iter().zip(&names))
                    .map(|(seq, (why, name))| {
                        let field = format!("downtime[{}].category", seq - first_downtime);
                        let message = match why.as_str() {
                            "unknown" => "No such reason: choose one from the list.".to_owned(),
                            "retired" => format!("\"{name}\" is retired: choose another reason."),
                            _ => format!("\"{name}\" is a reason of another loss."),
                        };
                        FieldError::new(&field, message)
                    })
                    .collect();
                return Err(RegistryError::Validation(errors));
            }
            match row.try_get::<i64, _>("shifts").map_err(from_sqlx)? {
                0 => Err(RegistryError::NotFound {
                    uid: shift.machine_uid,
                }),
                _ => Ok(()),
            }
        }
        Err(err) => {
            let constraint = err
                .as_database_error()
                .and_then(|e| e.constraint().map(str::to_owned));
            match constraint.as_deref() {
                // This write was recorded before (a replay, or an answer lost on the way):
                // either unique key may be the one that noticed.
                Some("shift_records_write_id_key" | "applied_writes_pkey") => Ok(()),
                Some("shift_records_pkey") => {
                    let recorded: Option<Uuid> =
                        sqlx::query_scalar("SELECT write_id FROM shift_records WHERE uid = $1")
                            .bind(uid)
                            .fetch_optional(&mut *db)
                            .await
                            .map_err(from_sqlx)?;
                    if recorded == Some(write_id) {
                        Ok(())
                    } else {
                        Err(RegistryError::Refused(
                            "this shift record was entered already".into(),
                        ))
                    }
                }
                Some("shift_records_ended") => Err(RegistryError::field(
                    "end",
                    "This shift has not ended yet by the server's clock: enter it once it is over.",
                )),
                Some("shift_records_performance_reason") => Err(RegistryError::field(
                    "performance_reason",
                    "Performance is above 100 %: give a reason, or correct the ideal cycle time.",
                )),
                Some("shift_records_no_overlap") => Err(RegistryError::field(
                    "start",
                    "This machine already has a shift that overlaps these times.",
                )),
                Some("shift_stops_reason_id_fkey") => Err(RegistryError::field(
                    "downtime",
                    "A reason was deleted meanwhile: choose another.",
                )),
                _ => Err(from_sqlx(err)),
            }
        }
    }
}

/// The sums of the shifts that began in `range`, per group (one row for the fleet), of one
/// machine when `machine` is given. Whole UTC days come from the daily sums (migration 13), the
/// partial days at the edges from the records themselves.
pub async fn oee_totals(
    db: &mut PgConnection,
    range: TimeRange,
    grouping: OeeGrouping,
    machine: Option<Uuid>,
) -> Result<Vec<OeeGroup>, RegistryError> {
    let (first_whole, end_whole, head_end, tail_start) = whole_days(range);
    let (daily, key, label, group_by) = match grouping {
        OeeGrouping::Fleet if machine.is_some() => ("oee_daily_machine", "''", "''", ""),
        OeeGrouping::Fleet => ("oee_daily_type", "''", "''", ""),
        OeeGrouping::MachineType => (
            "oee_daily_type",
            "machine_type",
            "machine_type",
            "GROUP BY machine_type",
        ),
        OeeGrouping::Machine => (
            "oee_daily_machine",
            "machine_uid::text",
            "(array_agg(machine_name ORDER BY at DESC))[1]",
            "GROUP BY machine_uid",
        ),
    };
    // A group appears only with shifts in the range (the fleet's one row always does).
    let having = if matches!(grouping, OeeGrouping::Fleet) {
        ""
    } else {
        "HAVING sum(shifts) > 0"
    };
    let (uid, name) = if daily == "oee_daily_machine" {
        ("machine_uid", "machine_name")
    } else {
        ("NULL::uuid", "NULL::text")
    };
    // One machine: its own daily rows (by the primary key's day range, then the uid).
    let (daily_machine, record_machine) = if machine.is_some() {
        ("AND machine_uid = $7", "AND machine_uid = $7")
    } else {
        ("", "")
    };
    let sql = format!(
        "WITH parts AS (
             SELECT {uid} AS machine_uid, machine_type, {name} AS machine_name,
                    day::timestamp AT TIME ZONE 'UTC' AS at,
                    planned_busy_s, breakdown_s, setup_s, small_stop_s, produced,
                    startup_rejects, production_rejects, ideal_produced_s,
                    ideal_startup_rejects_s, ideal_production_rejects_s, shifts
               FROM {daily}
              WHERE day >= $3 AND day < $4 {daily_machine}
             UNION ALL
             SELECT machine_uid, machine_type, machine_name, started_at,
                    planned_busy_s, breakdown_s, setup_s, small_stop_s, total_count,
                    startup_rejects, production_rejects, ideal_cycle_s * total_count,
                    ideal_cycle_s * startup_rejects, ideal_cycle_s * production_rejects, 1
               FROM shift_records
              WHERE ((started_at >= $1 AND started_at < $5) OR (started_at >= $6 AND started_at < $2))
                    {record_machine}
         )
         SELECT {key} AS key, {label} AS label,
                {TOTALS_COLUMNS}
           FROM parts
          {group_by}
          {having}
          ORDER BY 1"
    );
    let rows = sqlx::query(&sql)
        .bind(range.from)
        .bind(range.to)
        .bind(first_whole)
        .bind(end_whole)
        .bind(head_end)
        .bind(tail_start)
        .bind(machine)
        .fetch_all(&mut *db)
        .await
        .map_err(from_sqlx)?;
    rows.iter()
        .map(|row| {
            Ok(OeeGroup::of(
                row.try_get("key").map_err(from_sqlx)?,
                row.try_get("label").map_err(from_sqlx)?,
                totals_from(row)?,
            ))
        })
        .collect()
}

/// The sums of a roll-up over rows named as the daily tables' columns, as [`totals_from`] reads
/// them.
pub(crate) const TOTALS_COLUMNS: &str = "coalesce(sum(planned_busy_s), 0) AS planned_busy_s,
    coalesce(sum(breakdown_s), 0) AS breakdown_s,
    coalesce(sum(setup_s), 0) AS setup_s,
    coalesce(sum(small_stop_s), 0) AS small_stop_s,
    coalesce(sum(produced), 0)::float8 AS produced,
    coalesce(sum(startup_rejects), 0)::float8 AS startup_rejects,
    coalesce(sum(production_rejects), 0)::float8 AS production_rejects,
    coalesce(sum(ideal_produced_s), 0) AS ideal_produced_s,
    coalesce(sum(ideal_startup_rejects_s), 0) AS ideal_startup_rejects_s,
    coalesce(sum(ideal_production_rejects_s), 0) AS ideal_production_rejects_s,
    coalesce(sum(shifts), 0)::bigint AS shifts";

/// The sums a roll-up query names as `oee_totals` does.
pub(crate) fn totals_from(row: &sqlx::postgres::PgRow) -> Result<OeeTotals, RegistryError> {
    let get = |name: &str| row.try_get::<f64, _>(name).map_err(from_sqlx);
    Ok(OeeTotals {
        planned_busy_s: get("planned_busy_s")?,
        breakdown_s: get("breakdown_s")?,
        setup_s: get("setup_s")?,
        small_stop_s: get("small_stop_s")?,
        produced: get("produced")?,
        startup_rejects: get("startup_rejects")?,
        production_rejects: get("production_rejects")?,
        ideal_produced_s: get("ideal_produced_s")?,
        ideal_startup_rejects_s: get("ideal_startup_rejects_s")?,
        ideal_production_rejects_s: get("ideal_production_rejects_s")?,
        shifts: row.try_get::<i64, _>("shifts").map_err(from_sqlx)?.max(0) as u64,
    })
}

/// Every type's ideal cycle time, by type.
pub async fn ideal_cycle_times(db: &mut PgConnection) -> Result<Vec<TypeCycleTime>, RegistryError> {
    let rows: Vec<(String, f64)> = sqlx::query_as(
        "SELECT machine_type, ideal_cycle_s FROM ideal_cycle_times ORDER BY machine_type",
    )
    .fetch_all(&mut *db)
    .await
    .map_err(from_sqlx)?;
    Ok(rows
        .into_iter()
        .map(|(machine_type, ideal_cycle_s)| TypeCycleTime {
            machine_type,
            ideal_cycle_s,
        })
        .collect())
}

/// Sets (or removes, with `None`) a type's ideal cycle time.
pub async fn set_ideal_cycle_time(
    db: &mut PgConnection,
    machine_type: &MachineType,
    seconds: Option<f64>,
) -> Result<(), RegistryError> {
    let query = match seconds {
        Some(seconds) => sqlx::query(
            "INSERT INTO ideal_cycle_times (machine_type, ideal_cycle_s) VALUES ($1, $2)
             ON CONFLICT (machine_type) DO UPDATE SET ideal_cycle_s = EXCLUDED.ideal_cycle_s",
        )
        .bind(machine_type.as_str())
        .bind(seconds),
        None => sqlx::query("DELETE FROM ideal_cycle_times WHERE machine_type = $1")
            .bind(machine_type.as_str()),
    };
    query.execute(&mut *db).await.map_err(from_sqlx)?;
    Ok(())
}

/// The whole UTC days `[first, end)` inside `range`, and the instants its partial edge days end
/// and begin at (`range.from..head_end`, `tail_start..range.to`): the whole days are read from
/// the daily sums, the edges from the records.
pub(crate) fn whole_days(range: TimeRange) -> (NaiveDate, NaiveDate, DateTime<Utc>, DateTime<Utc>) {
    let midnight = |day: NaiveDate| day.and_time(NaiveTime::MIN).and_utc();
    let from_day = range.from.date_naive();
    let first_whole = if midnight(from_day) == range.from {
        from_day
    } else {
        from_day.succ_opt().unwrap_or(from_day)
    };
    let end_whole = range.to.date_naive();
    if first_whole < end_whole {
        (
            first_whole,
            end_whole,
            midnight(first_whole),
            midnight(end_whole),
        )
    } else {
        (first_whole, first_whole, range.to, range.to)
    }
}
