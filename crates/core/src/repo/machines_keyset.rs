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
    let mut sql = QueryBuilder::<Postgres>::new(format!(
        "WITH b AS (SELECT {key} AS bv, id AS bid FROM machines WHERE id = "
    ));
    sql.push_bind(id).push(") SELECT page.* FROM (");
    let branch = |sql: &mut QueryBuilder<'_, Postgres>, part: i32, condition: &str, order: &str| {
        sql.push(format!(
            "(SELECT {part} AS part, {key} AS sort_key, {MACHINE_COLUMNS} FROM machines, b"
        ));
        push_filters(sql, query, true);
        sql.push(format!(" AND {condition} ORDER BY {order} LIMIT "))
            .push_bind(query.limit)
            .push(") UNION ALL ");
    };
    if unique(query.sort) {
        let op = if direction == SortDirection::Asc {
            ">"
        } else {
            "<"
        };
        let bound = if query.sort == SortColumn::Id {
            "bid"
        } else {
            "bv"
        };
        branch(
            &mut sql,
            0,
            &format!("{key} {op} {bound}"),
            &format!("{key} {dir}"),
        );
    } else if direction == SortDirection::Asc {
        branch(
            &mut sql,
            0,
            &format!("bv IS NOT NULL AND ({key}, id) > (bv, bid)"),
            &format!("{key} ASC, id ASC"),
        );
        branch(
            &mut sql,
            1,
            &format!("{key} IS NULL AND (bv IS NOT NULL OR id > bid)"),
            "id ASC",
        );
    } else {
        branch(
            &mut sql,
            0,
            &format!("bv IS NULL AND {key} IS NULL AND id < bid"),
            "id DESC",
        );
        branch(
            &mut sql,
            1,
            &format!("{key} IS NOT NULL AND (bv IS NULL OR ({key}, id) < (bv, bid))"),
            &format!("{key} DESC, id DESC"),
        );
    }
    // The boundary row is gone: the page at the offset, as without a boundary.
    sql.push(format!(
        "(SELECT 2 AS part, {key} AS sort_key, {MACHINE_COLUMNS} FROM machines"
    ));
    push_filters(&mut sql, query, true);
    sql.push(" AND NOT EXISTS (SELECT 1 FROM b) ORDER BY ")
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
    // The fallback (part 2) comes in the query's own order; a page before the boundary comes
    // nearest first and is turned round.
    if matches!(boundary, PageBoundary::Before(_)) {
        machines.reverse();
    }
    Ok(machines)
}

fn reverse(direction: SortDirection) -> SortDirection {
    match direction {
        SortDirection::Asc => SortDirection::Desc,
        SortDirection::Desc => SortDirection::Asc,
    }
}
