//! OEE day by day (from the daily sums of migration 13) and downtime by reason (from the stops
//! of the shifts that began in the range).

use sqlx::{PgConnection, Row};
use uuid::Uuid;

use super::shifts::{category_of, totals_from, whole_days, TOTALS_COLUMNS};
use crate::domain::{DowntimePareto, OeeDay, OeeGrouping, ReasonDowntime, TimeRange};
use crate::error::{from_sqlx, RegistryError};

/// What one group is: the fleet, a type (`key` its name), a machine (`key` its uid).
fn group_filter(
    grouping: OeeGrouping,
    key: Option<&str>,
) -> Result<(&'static str, &'static str), RegistryError> {
    let missing = || RegistryError::field("key", "Choose the type or the machine.");
    match grouping {
        OeeGrouping::Fleet => Ok(("oee_daily_type", "")),
        OeeGrouping::MachineType => key
            .map(|_| ("oee_daily_type", "AND machine_type = $3"))
            .ok_or_else(missing),
        OeeGrouping::Machine => {
            let key = key.ok_or_else(missing)?;
            Uuid::parse_str(key).map_err(|_| RegistryError::field("key", "Not a machine id."))?;
            Ok(("oee_daily_machine", "AND machine_uid = $3::uuid"))
        }
    }
}

/// OEE per UTC day (the day the shifts began) of the shifts that began in `range`, for the
/// fleet, a type or a machine: whole days from the daily sums, the partial days at the edges
/// from the records, so the days add up to the range's totals. Days without shifts are left out.
pub async fn oee_trend(
    db: &mut PgConnection,
    range: TimeRange,
    grouping: OeeGrouping,
    key: Option<&str>,
) -> Result<Vec<OeeDay>, RegistryError> {
    let (table, filter) = group_filter(grouping, key)?;
    let (first_whole, end_whole, head_end, tail_start) = whole_days(range);
    let record_filter = filter.replace("$3", "$7");
    let sql = format!(
        "WITH parts AS (
             SELECT day, planned_busy_s, breakdown_s, setup_s, small_stop_s, produced,
                    startup_rejects, production_rejects, ideal_produced_s,
                    ideal_startup_rejects_s, ideal_production_rejects_s, shifts
               FROM {table}
              WHERE day >= $3 AND day < $4 {daily_filter}
             UNION ALL
             SELECT (started_at AT TIME ZONE 'UTC')::date, planned_busy_s, breakdown_s, setup_s,
                    small_stop_s, total_count, startup_rejects, production_rejects,
                    ideal_cycle_s * total_count, ideal_cycle_s * startup_rejects,
                    ideal_cycle_s * production_rejects, 1
               FROM shift_records
              WHERE ((started_at >= $1 AND started_at < $5) OR (started_at >= $6 AND started_at < $2))
                    {record_filter}
         )
         SELECT day, {TOTALS_COLUMNS}
           FROM parts
          GROUP BY day
         HAVING sum(shifts) > 0
          ORDER BY day",
        daily_filter = filter.replace("$3", "$7"),
    );
    let mut query = sqlx::query(&sql)
        .bind(range.from)
        .bind(range.to)
        .bind(first_whole)
        .bind(end_whole)
        .bind(head_end)
        .bind(tail_start);
    if !filter.is_empty() {
        query = query.bind(key);
    }
    let rows = query.fetch_all(&mut *db).await.map_err(from_sqlx)?;
    rows.iter()
        .map(|row| {
            let totals = totals_from(row)?;
            Ok(OeeDay {
                day: row.try_get("day").map_err(from_sqlx)?,
                figures: totals.figures(),
                totals,
            })
        })
        .collect()
}

/// Downtime of the shifts that began in `range` (of the fleet, a type or a machine), by reason
/// and by loss category, largest first.
pub async fn downtime_pareto(
    db: &mut PgConnection,
    range: TimeRange,
    grouping: OeeGrouping,
    key: Option<&str>,
) -> Result<DowntimePareto, RegistryError> {
    let filter = match group_filter(grouping, key)?.1 {
        "" => "",
        "AND machine_type = $3" => "AND s.machine_type = $3",
        _ => "AND s.machine_uid = $3::uuid",
    };
    let sql = format!(
        "SELECT t.reason_id, r.name, t.category, sum(t.seconds) AS seconds, count(*) AS events
           FROM shift_records s
           JOIN shift_stops t ON t.shift_uid = s.uid AND NOT t.planned
           JOIN loss_reasons r ON r.id = t.reason_id
          WHERE s.started_at >= $1 AND s.started_at < $2 {filter}
          GROUP BY t.reason_id, r.name, t.category"
    );
    let mut query = sqlx::query(&sql).bind(range.from).bind(range.to);
    if !filter.is_empty() {
        query = query.bind(key);
    }
    let rows = query.fetch_all(&mut *db).await.map_err(from_sqlx)?;
    let reasons = rows
        .iter()
        .map(|row| {
            let category: String = row.try_get("category").map_err(from_sqlx)?;
            Ok(ReasonDowntime {
                reason_id: row.try_get("reason_id").map_err(from_sqlx)?,
                name: row.try_get("name").map_err(from_sqlx)?,
                category: category_of(&category).ok_or_else(|| {
                    RegistryError::Internal(format!("unknown loss category {category:?}"))
                })?,
                seconds: row.try_get("seconds").map_err(from_sqlx)?,
                events: row.try_get("events").map_err(from_sqlx)?,
            })
        })
        .collect::<Result<Vec<_>, RegistryError>>()?;
    Ok(DowntimePareto::from_reasons(reasons))
}
