//! Keyset paging: the page after (or before) a given row, in the list's order, found through the
//! sort column's index from that row's position, so a page deep in 100,000 machines costs what
//! the first does. The boundary row's own sort value is read by the server in the same
//! statement. A boundary row that is gone (deleted meanwhile) falls back to the offset.
//!
//! Tables adopted from other tools may hold NULL in a sort column: PostgreSQL sorts NULL last
//! ascending and first descending, and a row comparison with NULL is never true, so the NULL
//! rows are a part of their own, before or after the others as the order puts them.

use sqlx::{PgExecutor, Postgres, QueryBuilder};

use super::machines_read::push_filters;
use super::row::{into_machines, MachineRow, MACHINE_COLUMNS};
use crate::domain::{Machine, PageBoundary, SortColumn, SortDirection, ValidListQuery};
use crate::error::{from_sqlx, RegistryError};

/// The sort column's value as the ORDER BY compares it.
fn sort_key(sort: SortColumn) -> &'static str {
    match sort {
        SortColumn::MachineName => "lower(machine_name)",
        SortColumn::MachineType => "machine_type",
        SortColumn::OperationalStatus => "operational_status",
        SortColumn::Efficiency => "efficiency",
        SortColumn::LastMaintenance => "last_maintenance",
        SortColumn::UpdatedAt => "updated_at",
        SortColumn::Id => "id",
    }
}

/// Names are unique ignoring case, and ids are unique: those need no second key.
fn unique(sort: SortColumn) -> bool {
    matches!(sort, SortColumn::MachineName | SortColumn::Id)
}

fn word(direction: SortDirection) -> &'static str {
    match direction {
        SortDirection::Asc => "ASC",
        SortDirection::Desc => "DESC",
    }
}

/// One part of the page: the rows matching `condition`, in `order`. `?b` in the condition
/// stands for the boundary row's sort value and `?id` for its id, each bound where it stands
/// (as scalar subqueries, so the sort column's index serves a condition on them).
struct Part<'a> {
    number: i32,
    condition: &'a str,
    order: &'a str,
}

/// The page next to `boundary`, in the query's order.
pub async fn list_machines_keyset(
    db: impl PgExecutor<'_>,
    query: &ValidListQuery,
    boundary: PageBoundary,
) -> Result<Vec<Machine>, RegistryError> {
    let (id, direction) = match boundary {
        PageBoundary::After(id) => (id, query.direction),
        // The rows before it, nearest first, are those after it in the reverse order.
        PageBoundary::Before(id) => (id, reverse(query.direction)),
    };
    let key = sort_key(query.sort);
    let dir = word(direction);
    let by_key = format!("{key} {dir}, id {dir}");
    let by_id = format!("id {dir}");
    let exists = "EXISTS (SELECT 1 FROM machines WHERE id = ?id)";
    let parts: Vec<(i32, String, &str)> = if unique(query.sort) {
        let op = if direction == SortDirection::Asc {
            ">"
        } else {
            "<"
        };
        // (A missing boundary row makes `?b` NULL: no rows; an id needs the check.)
        let condition = if query.sort == SortColumn::Id {
            format!("{exists} AND id {op} ?id")
        } else {
            format!("{key} {op} ?b")
        };
        vec![(0, condition, by_key.as_str())]
    } else if direction == SortDirection::Asc {
        // Non-NULL values first, then the NULLs by id.
        vec![
            (0, format!("({key}, id) > (?b, ?id)"), by_key.as_str()),
            (
                1,
                format!("{key} IS NULL AND ?b IS NOT NULL"),
                by_id.as_str(),
            ),
            (
                1,
                format!("{key} IS NULL AND ?b IS NULL AND {exists} AND id > ?id"),
                by_id.as_str(),
            ),
        ]
    } else {
        // The NULLs first by id, then the non-NULL values.
        vec![
            (
                0,
                format!("{key} IS NULL AND ?b IS NULL AND {exists} AND id < ?id"),
                by_id.as_str(),
            ),
            (
                1,
                format!("{key} IS NOT NULL AND ?b IS NULL AND {exists}"),
                by_key.as_str(),
            ),
            (1, format!("({key}, id) < (?b, ?id)"), by_key.as_str()),
        ]
    };
    let mut sql = QueryBuilder::<Postgres>::new("SELECT page.* FROM (");
    let parts = parts.iter().map(|(number, condition, order)| Part {
        number: *number,
        condition,
        order,
    });
    for part in parts {
        sql.push(format!(
            "(SELECT {} AS part, {key} AS sort_key, {MACHINE_COLUMNS} FROM machines",
            part.number
        ));
        push_filters(&mut sql, query, true);
        sql.push(" AND ");
        push_condition(&mut sql, part.condition, key, id);
        sql.push(format!(" ORDER BY {} LIMIT ", part.order))
            .push_bind(query.limit)
            .push(") UNION ALL ");
    }
    // The boundary row is gone: the page at the offset, as without a boundary.
    sql.push(format!(
        "(SELECT 2 AS part, {key} AS sort_key, {MACHINE_COLUMNS} FROM machines"
    ));
    push_filters(&mut sql, query, true);
    sql.push(" AND NOT ");
    push_condition(&mut sql, exists, key, id);
    sql.push(" ORDER BY ")
        .push(query.sort.order_by(query.direction))
        .push(" LIMIT ")
        .push_bind(query.limit)
        .push(" OFFSET ")
        .push_bind(query.offset)
        .push(format!(
            ")) page ORDER BY page.part, page.sort_key {dir}, page.id {dir} LIMIT "
        ))
        .push_bind(query.limit);
    let rows: Vec<MachineRow> = sql
        .build_query_as()
        .persistent(query.search.is_none())
        .fetch_all(db)
        .await
        .map_err(from_sqlx)?;
    let mut machines = into_machines(rows)?;
    // Rows before the boundary came nearest first (as did a fallback page, sorted the same
    // way): turned round into the list's order.
    if matches!(boundary, PageBoundary::Before(_)) {
        machines.reverse();
    }
    Ok(machines)
}

/// Pushes `condition` with `?b` as the boundary row's sort value and `?id` as its id, bound.
fn push_condition(sql: &mut QueryBuilder<'_, Postgres>, condition: &str, key: &str, id: i32) {
    let mut rest = condition;
    loop {
        let next_b = rest.find("?b");
        let next_id = rest.find("?id");
        let (at, is_id) = match (next_b, next_id) {
            (Some(b), Some(i)) if i < b => (i, true),
            (Some(b), _) => (b, false),
            (None, Some(i)) => (i, true),
            (None, None) => break,
        };
        sql.push(&rest[..at]);
        if is_id {
            sql.push_bind(id);
            rest = &rest[at + 3..];
        } else {
            sql.push(format!("(SELECT {key} FROM machines WHERE id = "))
                .push_bind(id)
                .push(")");
            rest = &rest[at + 2..];
        }
    }
    sql.push(rest);
}

fn reverse(direction: SortDirection) -> SortDirection {
    match direction {
        SortDirection::Asc => SortDirection::Desc,
        SortDirection::Desc => SortDirection::Asc,
    }
}
