use sqlx::{PgExecutor, Postgres, QueryBuilder};
use uuid::Uuid;

use super::row::{insane_instants, into_machines, MachineRow, MACHINE_COLUMNS};
use crate::domain::{Machine, OperationalStatus, StatusCount, ValidListQuery};
use crate::error::{from_sqlx, RegistryError};

pub async fn get_machine(db: impl PgExecutor<'_>, uid: Uuid) -> Result<Machine, RegistryError> {
    let sql = format!("SELECT {MACHINE_COLUMNS} FROM machines WHERE uid = $1");
    let row: Option<MachineRow> = sqlx::query_as(&sql)
        .bind(uid)
        .fetch_optional(db)
        .await
        .map_err(from_sqlx)?;
    row.ok_or(RegistryError::NotFound { uid })?.try_into()
}

/// The machines with these uids (those that exist), in no particular order.
pub async fn machines_by_uid(
    db: impl PgExecutor<'_>,
    uids: &[Uuid],
) -> Result<Vec<Machine>, RegistryError> {
    let sql = format!("SELECT {MACHINE_COLUMNS} FROM machines WHERE uid = ANY($1)");
    let rows: Vec<MachineRow> = sqlx::query_as(&sql)
        .bind(uids)
        .fetch_all(db)
        .await
        .map_err(from_sqlx)?;
    into_machines(rows)
}

/// One page, in the requested stable order. The count is a separate query so a caller can run it
/// beside the page (it costs a scan of every match, the page only an index range).
pub async fn list_machines(
    db: impl PgExecutor<'_>,
    query: &ValidListQuery,
) -> Result<Vec<Machine>, RegistryError> {
    if let Some(boundary) = query.boundary {
        return super::machines_keyset::list_machines_keyset(db, query, boundary).await;
    }
    let mut sql = QueryBuilder::<Postgres>::new(format!("SELECT {MACHINE_COLUMNS} FROM machines"));
    push_filters(&mut sql, query, true);
    sql.push(" ORDER BY ")
        .push(query.sort.order_by(query.direction))
        .push(" LIMIT ")
        .push_bind(query.limit)
        .push(" OFFSET ")
        .push_bind(query.offset);
    let rows: Vec<MachineRow> = sql
        .build_query_as()
        .persistent(plan_once(query))
        .fetch_all(db)
        .await
        .map_err(from_sqlx)?;
    into_machines(rows)
}

pub async fn count_machines(
    db: impl PgExecutor<'_>,
    query: &ValidListQuery,
) -> Result<i64, RegistryError> {
    let mut sql = QueryBuilder::<Postgres>::new("SELECT count(*) FROM machines");
    push_filters(&mut sql, query, true);
    sql.build_query_scalar()
        .persistent(plan_once(query))
        .fetch_one(db)
        .await
        .map_err(from_sqlx)
}

/// Machines per status under the query's type and search filters (its status filter is ignored,
/// so the counts can label the status filter itself). Every status is listed, zeros included.
pub async fn status_counts(
    db: impl PgExecutor<'_>,
    query: &ValidListQuery,
) -> Result<Vec<StatusCount>, RegistryError> {
    let mut sql =
        QueryBuilder::<Postgres>::new("SELECT operational_status, count(*) FROM machines");
    push_filters(&mut sql, query, false);
    sql.push(" GROUP BY operational_status");
    let rows: Vec<(String, i64)> = sql
        .build_query_as()
        .persistent(plan_once(query))
        .fetch_all(db)
        .await
        .map_err(from_sqlx)?;
    Ok(OperationalStatus::ALL
        .into_iter()
        .map(|status| StatusCount {
            status,
            count: rows
                .iter()
                .find(|(name, _)| name == status.as_str())
                .map_or(0, |(_, count)| *count),
        })
        .collect())
}

/// Up to `limit` machines, in id order: the offline copy of the fleet.
pub async fn all_machines(
    db: impl PgExecutor<'_>,
    limit: i64,
) -> Result<Vec<Machine>, RegistryError> {
    let sql = format!("SELECT {MACHINE_COLUMNS} FROM machines ORDER BY id LIMIT $1");
    let rows: Vec<MachineRow> = sqlx::query_as(&sql)
        .bind(limit)
        .fetch_all(db)
        .await
        .map_err(from_sqlx)?;
    into_machines(rows)
}

/// A fingerprint of the whole fleet that changes with every committed insert, delete and real
/// change, whoever makes it: the count, then an order-free hash of every (uid, version) pair.
/// Every real change moves a machine's version (the trigger), so the set of pairs changes with
/// it; unlike the newest `updated_at` (a transaction's *start*), it cannot miss a change that
/// commits late. The offline copy is refreshed only when it differs.
pub async fn fleet_signature(db: impl PgExecutor<'_>) -> Result<String, RegistryError> {
    sqlx::query_scalar(
        "SELECT count(*) || '/' || coalesce(bit_xor(hashtextextended(uid::text || '/' || version, 0)), 0)
         FROM machines",
    )
    .fetch_one(db)
    .await
    .map_err(from_sqlx)
}

/// Rows holding values the app cannot show as stored (another tool wrote them): id, name and
/// the offending values, for the administrator's report.
pub async fn rule_breaks(
    db: impl PgExecutor<'_>,
    limit: i64,
) -> Result<Vec<String>, RegistryError> {
    let sql = format!(
        "SELECT format('id %s (%L): last_maintenance %s, created_at %s, updated_at %s',
                       id, machine_name, last_maintenance, created_at, updated_at)
         FROM machines WHERE {} ORDER BY id LIMIT $1",
        insane_instants()
    );
    sqlx::query_scalar(&sql)
        .bind(limit)
        .fetch_all(db)
        .await
        .map_err(from_sqlx)
}

/// The distinct machine types, for the type filter. Bounded: a fleet has tens of types.
pub async fn machine_types(db: impl PgExecutor<'_>) -> Result<Vec<String>, RegistryError> {
    sqlx::query_scalar(
        "SELECT DISTINCT machine_type FROM machines ORDER BY machine_type LIMIT 1000",
    )
    .fetch_all(db)
    .await
    .map_err(from_sqlx)
}

/// Whether the statement may be prepared once and reused. Not with a name search: a reused
/// statement soon gets a generic plan that cannot see the pattern, guesses its selectivity, and
/// walks the whole name index for a rare name (15 ms instead of 2 ms on 100,000 machines). Sent
/// unprepared, it is planned for its pattern every time, still in one round trip.
fn plan_once(query: &ValidListQuery) -> bool {
    query.search.is_none()
}

pub(super) fn push_filters(
    sql: &mut QueryBuilder<'_, Postgres>,
    query: &ValidListQuery,
    by_status: bool,
) {
    sql.push(" WHERE TRUE");
    if by_status && !query.statuses.is_empty() {
        let statuses: Vec<&str> = query.statuses.iter().map(|s| s.as_str()).collect();
        sql.push(" AND operational_status = ANY(")
            .push_bind(statuses)
            .push(")");
    }
    if let Some(machine_type) = &query.machine_type {
        sql.push(" AND machine_type = ")
            .push_bind(machine_type.clone());
    }
    if let Some(search) = &query.search {
        sql.push(" AND lower(machine_name) LIKE ")
            .push_bind(format!("%{}%", escape_like(&search.to_lowercase())));
    }
}

/// The user's text is matched literally: `%`, `_` and `\` lose their LIKE meaning.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_wildcards_are_literal() {
        assert_eq!(super::escape_like(r"50%_a\b"), r"50\%\_a\\b");
    }
}
