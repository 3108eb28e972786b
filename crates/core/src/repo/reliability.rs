//! Reliability over a range, summed from `machine_status_periods` (migration 7).

use chrono::{DateTime, Utc};
use sqlx::{Connection, PgConnection, Row};
use uuid::Uuid;

use crate::domain::{
    BelowTarget, FleetEfficiency, MachineReliability, StatusTimes, TimeRange, TypeEfficiency,
};
use crate::error::{from_sqlx, RegistryError};

/// The reliability query: $1 from, $2 to, $3 now (public for the benchmark's EXPLAIN).
pub const MACHINE_RELIABILITY_SQL: &str = "WITH clipped AS (
             SELECT machine_uid, status, started_at,
                    greatest(started_at, $1) AS s,
                    least(coalesce(ended_at, $3), $2) AS e
             FROM machine_status_periods
             WHERE coalesce(ended_at, 'infinity'::timestamptz) > $1 AND started_at < $2
         ), sums AS (
             SELECT machine_uid,
                    coalesce(sum(extract(epoch FROM e - s)) FILTER (WHERE status = 'Running' AND e > s), 0)::float8 AS running_s,
                    coalesce(sum(extract(epoch FROM e - s)) FILTER (WHERE status = 'Idle' AND e > s), 0)::float8 AS idle_s,
                    coalesce(sum(extract(epoch FROM e - s)) FILTER (WHERE status = 'Maintenance' AND e > s), 0)::float8 AS maintenance_s,
                    coalesce(sum(extract(epoch FROM e - s)) FILTER (WHERE status = 'Down' AND e > s), 0)::float8 AS down_s,
                    count(*) FILTER (WHERE status = 'Down' AND e > s) AS down_periods,
                    count(*) FILTER (WHERE status = 'Down' AND started_at >= $1 AND e > s) AS failures
             FROM clipped
             GROUP BY machine_uid
         ), ids AS (
             SELECT uid FROM machines
             UNION
             SELECT machine_uid FROM sums
         )
         SELECT ids.uid,
                coalesce(m.machine_name, last_name.value, '(unknown)') AS machine_name,
                coalesce(m.machine_type, last_type.value, '(unknown)') AS machine_type,
                m.uid IS NULL AS deleted,
                coalesce(s.running_s, 0) AS running_s, coalesce(s.idle_s, 0) AS idle_s,
                coalesce(s.maintenance_s, 0) AS maintenance_s, coalesce(s.down_s, 0) AS down_s,
                coalesce(s.down_periods, 0) AS down_periods, coalesce(s.failures, 0) AS failures
         FROM ids
         LEFT JOIN machines m ON m.uid = ids.uid
         LEFT JOIN sums s ON s.machine_uid = ids.uid
         LEFT JOIN LATERAL (
             SELECT h.changes -> 'machine_name' ->> 1 AS value FROM machine_history h
             WHERE m.uid IS NULL AND h.machine_uid = ids.uid AND h.changes ? 'machine_name'
             ORDER BY h.id DESC LIMIT 1
         ) last_name ON true
         LEFT JOIN LATERAL (
             SELECT h.changes -> 'machine_type' ->> 1 AS value FROM machine_history h
             WHERE m.uid IS NULL AND h.machine_uid = ids.uid AND h.changes ? 'machine_type'
             ORDER BY h.id DESC LIMIT 1
         ) last_type ON true
         ORDER BY lower(coalesce(m.machine_name, last_name.value, '')), ids.uid";

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
