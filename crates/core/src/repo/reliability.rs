//! Reliability over a range, from `machine_status_periods` (migration 7): each figure is a running
//! total at the range's end minus the same total at its start, found by one index lookup per
//! machine at each end, however many periods lie between.

use chrono::{DateTime, Utc};
use sqlx::{Connection, PgConnection, Row};
use uuid::Uuid;

use crate::domain::{
    BelowTarget, EfficiencyPoint, FleetEfficiency, MachineReliability, MachineTimeline, StatusBand,
    StatusTimes, TimeRange, TypeEfficiency,
};
use crate::error::{from_sqlx, RegistryError};

/// The reliability query: $1 from, $2 to, $3 now (public for the benchmark's EXPLAIN).
pub const MACHINE_RELIABILITY_SQL: &str = "WITH bounds AS (
             SELECT $1::timestamptz AS t_from, greatest($1::timestamptz, least($2::timestamptz, $3::timestamptz)) AS t_to, $3::timestamptz AS now
         ), ids AS (
             SELECT uid FROM machines
             UNION
             SELECT h.machine_uid FROM machine_history h, bounds b
             WHERE h.operation = 'delete' AND h.changed_at >= b.t_from
         ), totals AS (
             SELECT ids.uid, b.t_from, b.t_to, b.now,
                    a.status AS a_status, a.started_at AS a_start, a.ended_at AS a_end,
                    a.running_before AS a_run, a.idle_before AS a_idle,
                    a.maintenance_before AS a_maint, a.down_before AS a_down, a.down_starts_before AS a_starts,
                    z.status AS z_status, z.started_at AS z_start, z.ended_at AS z_end,
                    z.running_before AS z_run, z.idle_before AS z_idle,
                    z.maintenance_before AS z_maint, z.down_before AS z_down, z.down_starts_before AS z_starts
             FROM ids CROSS JOIN bounds b
             LEFT JOIN LATERAL (
                 SELECT p.status, p.started_at, p.ended_at, p.running_before, p.idle_before,
                        p.maintenance_before, p.down_before, p.down_starts_before
                 FROM machine_status_periods p
                 WHERE p.machine_uid = ids.uid AND p.started_at <= b.t_from
                 ORDER BY p.started_at DESC, p.id DESC LIMIT 1
             ) a ON true
             -- The period holding the range's end: for a range ending now, nearly always the
             -- machine's open period, found for all machines by one scan of the open ones; the
             -- index lookup runs only for the others (a deleted machine, an earlier end).
             LEFT JOIN machine_status_periods o
                    ON o.machine_uid = ids.uid AND o.ended_at IS NULL AND o.started_at <= b.t_to
             LEFT JOIN LATERAL (
                 SELECT p.status, p.started_at, p.ended_at, p.running_before, p.idle_before,
                        p.maintenance_before, p.down_before, p.down_starts_before
                 FROM machine_status_periods p
                 WHERE o.machine_uid IS NULL AND p.machine_uid = ids.uid AND p.started_at <= b.t_to
                 ORDER BY p.started_at DESC, p.id DESC LIMIT 1
             ) y ON true
             CROSS JOIN LATERAL (
                 SELECT coalesce(o.status, y.status) AS status,
                        coalesce(o.started_at, y.started_at) AS started_at,
                        CASE WHEN o.machine_uid IS NULL THEN y.ended_at END AS ended_at,
                        coalesce(o.running_before, y.running_before) AS running_before,
                        coalesce(o.idle_before, y.idle_before) AS idle_before,
                        coalesce(o.maintenance_before, y.maintenance_before) AS maintenance_before,
                        coalesce(o.down_before, y.down_before) AS down_before,
                        coalesce(o.down_starts_before, y.down_starts_before) AS down_starts_before
             ) z
         ), figures AS (
             SELECT uid,
                    -- seconds in a status up to an instant: the totals before the period holding
                    -- it, plus that period's own part up to the instant
                    (coalesce(z_run, 0) + CASE WHEN z_status = 'Running' THEN greatest(0, extract(epoch FROM least(t_to, coalesce(z_end, now)) - z_start)) ELSE 0 END)
                  - (coalesce(a_run, 0) + CASE WHEN a_status = 'Running' THEN greatest(0, extract(epoch FROM least(t_from, coalesce(a_end, now)) - a_start)) ELSE 0 END) AS running_s,
                    (coalesce(z_idle, 0) + CASE WHEN z_status = 'Idle' THEN greatest(0, extract(epoch FROM least(t_to, coalesce(z_end, now)) - z_start)) ELSE 0 END)
                  - (coalesce(a_idle, 0) + CASE WHEN a_status = 'Idle' THEN greatest(0, extract(epoch FROM least(t_from, coalesce(a_end, now)) - a_start)) ELSE 0 END) AS idle_s,
                    (coalesce(z_maint, 0) + CASE WHEN z_status = 'Maintenance' THEN greatest(0, extract(epoch FROM least(t_to, coalesce(z_end, now)) - z_start)) ELSE 0 END)
                  - (coalesce(a_maint, 0) + CASE WHEN a_status = 'Maintenance' THEN greatest(0, extract(epoch FROM least(t_from, coalesce(a_end, now)) - a_start)) ELSE 0 END) AS maintenance_s,
                    (coalesce(z_down, 0) + CASE WHEN z_status = 'Down' THEN greatest(0, extract(epoch FROM least(t_to, coalesce(z_end, now)) - z_start)) ELSE 0 END)
                  - (coalesce(a_down, 0) + CASE WHEN a_status = 'Down' THEN greatest(0, extract(epoch FROM least(t_from, coalesce(a_end, now)) - a_start)) ELSE 0 END) AS down_s,
                    -- Down periods begun before an instant
                    (coalesce(z_starts, 0) + CASE WHEN z_status = 'Down' AND z_start < t_to THEN 1 ELSE 0 END)
                  - (coalesce(a_starts, 0) + CASE WHEN a_status = 'Down' AND a_start < t_from THEN 1 ELSE 0 END) AS failures,
                    -- a Down period already under way at the start
                    CASE WHEN a_status = 'Down' AND a_start < t_from AND coalesce(a_end, now) > t_from THEN 1 ELSE 0 END AS straddling
             FROM totals
         ), gone AS MATERIALIZED (
             SELECT f.uid FROM figures f WHERE NOT EXISTS (SELECT 1 FROM machines m WHERE m.uid = f.uid)
         ), gone_names AS MATERIALIZED (
             -- A deleted machine is shown by its last name and type (index lookups, for the
             -- deleted ones only).
             SELECT g.uid,
                    (SELECT h.changes -> 'machine_name' ->> 1 FROM machine_history h
                     WHERE h.machine_uid = g.uid AND h.changes ? 'machine_name'
                     ORDER BY h.id DESC LIMIT 1) AS name,
                    (SELECT h.changes -> 'machine_type' ->> 1 FROM machine_history h
                     WHERE h.machine_uid = g.uid AND h.changes ? 'machine_type'
                     ORDER BY h.id DESC LIMIT 1) AS machine_type
             FROM gone g
         )
         SELECT f.uid,
                coalesce(m.machine_name, g.name, '(unknown)') AS machine_name,
                coalesce(m.machine_type, g.machine_type, '(unknown)') AS machine_type,
                m.uid IS NULL AS deleted,
                f.running_s::float8 AS running_s, f.idle_s::float8 AS idle_s,
                f.maintenance_s::float8 AS maintenance_s, f.down_s::float8 AS down_s,
                (f.failures + f.straddling)::int8 AS down_periods, f.failures::int8 AS failures
         FROM figures f
         LEFT JOIN machines m ON m.uid = f.uid
         LEFT JOIN gone_names g ON g.uid = f.uid
         ORDER BY lower(coalesce(m.machine_name, g.name, '')), f.uid";

/// Every machine that exists now or had a status in the range, with its figures (see
/// `domain::reliability` for the definitions), ordered by name. `now` ends the open periods.
pub async fn machine_reliability(
    conn: &mut PgConnection,
    range: TimeRange,
    now: DateTime<Utc>,
) -> Result<Vec<MachineReliability>, RegistryError> {
    // The planner overestimates the per-machine lookups and would JIT-compile the query, which
    // costs more (~400 ms) than running it: off for this transaction only.
    let mut tx = conn.begin().await.map_err(from_sqlx)?;
    sqlx::query("SET LOCAL jit = off")
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    let rows = sqlx::query(MACHINE_RELIABILITY_SQL)
        .bind(range.from)
        .bind(range.to)
        .bind(now)
        .fetch_all(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    tx.commit().await.map_err(from_sqlx)?;
    rows.iter()
        .map(|row| {
            let times = StatusTimes {
                running_s: row.try_get("running_s")?,
                idle_s: row.try_get("idle_s")?,
                maintenance_s: row.try_get("maintenance_s")?,
                down_s: row.try_get("down_s")?,
                down_periods: row.try_get("down_periods")?,
                failures: row.try_get("failures")?,
            };
            Ok(MachineReliability::new(
                row.try_get::<Uuid, _>("uid")?,
                row.try_get("machine_name")?,
                row.try_get("machine_type")?,
                row.try_get("deleted")?,
                times,
            ))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(from_sqlx)
}

/// The fleet's efficiency: median, 10-point histogram, the machines below `target` (lowest
/// first) and the median per type. Values another tool stored outside 0–100 are left out.
pub async fn fleet_efficiency(
    db: &mut PgConnection,
    target: f64,
) -> Result<FleetEfficiency, RegistryError> {
    let (machines, median, histogram): (i64, Option<f64>, Vec<i64>) = sqlx::query_as(
        "WITH valid AS (SELECT efficiency FROM machines WHERE efficiency >= 0 AND efficiency <= 100)
         SELECT count(*),
                percentile_cont(0.5) WITHIN GROUP (ORDER BY efficiency),
                ARRAY(SELECT count(v.efficiency) FROM generate_series(0, 9) b
                      LEFT JOIN valid v ON least(floor(v.efficiency / 10), 9) = b
                      GROUP BY b ORDER BY b)
         FROM valid",
    )
    .fetch_one(&mut *db)
    .await
    .map_err(from_sqlx)?;
    let below = sqlx::query(
        "SELECT uid, machine_name, machine_type, efficiency FROM machines
         WHERE efficiency >= 0 AND efficiency < $1
         ORDER BY efficiency, lower(machine_name)",
    )
    .bind(target)
    .fetch_all(&mut *db)
    .await
    .map_err(from_sqlx)?;
    let by_type = sqlx::query(
        "SELECT machine_type, count(*) AS machines,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY efficiency) AS median
         FROM machines WHERE efficiency >= 0 AND efficiency <= 100
         GROUP BY machine_type ORDER BY median, machine_type",
    )
    .fetch_all(&mut *db)
    .await
    .map_err(from_sqlx)?;
    let below_target = below
        .iter()
        .map(|row| {
            Ok(BelowTarget {
                uid: row.try_get("uid")?,
                machine_name: row.try_get("machine_name")?,
                machine_type: row.try_get("machine_type")?,
                efficiency: row.try_get("efficiency")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(from_sqlx)?;
    let by_type = by_type
        .iter()
        .map(|row| {
            Ok(TypeEfficiency {
                machine_type: row.try_get("machine_type")?,
                machines: row.try_get("machines")?,
                median: row.try_get("median")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(from_sqlx)?;
    Ok(FleetEfficiency {
        target,
        machines,
        median,
        histogram,
        below_target,
        by_type,
    })
}

/// A machine's status bands within `range` (clipped; an open one ends at `now`) and its
/// efficiency: the value in force at the range's start, then each change in it, oldest first.
pub async fn machine_timeline(
    db: &mut PgConnection,
    uid: Uuid,
    range: TimeRange,
    now: DateTime<Utc>,
) -> Result<MachineTimeline, RegistryError> {
    let bands = sqlx::query(
        "SELECT status, greatest(started_at, $2) AS band_from,
                least(coalesce(ended_at, $4), $3) AS band_to, ended_at IS NULL AS open
         FROM machine_status_periods
         WHERE machine_uid = $1 AND started_at < $3 AND coalesce(ended_at, $4) > $2
           AND least(coalesce(ended_at, $4), $3) > greatest(started_at, $2)
         ORDER BY started_at, id",
    )
    .bind(uid)
    .bind(range.from)
    .bind(range.to)
    .bind(now)
    .fetch_all(&mut *db)
    .await
    .map_err(from_sqlx)?;
    let points = sqlx::query(
        "(SELECT greatest(changed_at, $2) AS at, (changes -> 'efficiency' ->> 1)::float8 AS efficiency
          FROM machine_history
          WHERE machine_uid = $1 AND changes ? 'efficiency' AND changed_at < $2
          ORDER BY id DESC LIMIT 1)
         UNION ALL
         (SELECT changed_at, (changes -> 'efficiency' ->> 1)::float8
          FROM machine_history
          WHERE machine_uid = $1 AND changes ? 'efficiency' AND changed_at >= $2 AND changed_at < $3
          ORDER BY id)
         ORDER BY at",
    )
    .bind(uid)
    .bind(range.from)
    .bind(range.to)
    .fetch_all(&mut *db)
    .await
    .map_err(from_sqlx)?;
    let bands = bands
        .iter()
        .map(|row| {
            Ok(StatusBand {
                status: row.try_get("status")?,
                from: row.try_get("band_from")?,
                to: row.try_get("band_to")?,
                open: row.try_get("open")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(from_sqlx)?;
    let efficiency = points
        .iter()
        .map(|row| {
            Ok(EfficiencyPoint {
                at: row.try_get("at")?,
                efficiency: row.try_get("efficiency")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(from_sqlx)?;
    Ok(MachineTimeline {
        uid,
        range,
        bands,
        efficiency,
    })
}
