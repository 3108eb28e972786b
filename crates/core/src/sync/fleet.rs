//! The offline copy of the whole fleet: while the database is away, the list, its filters,
//! search, sorting, paging and counts are answered from it with the server's rules, so an
//! operator can still find any machine to edit. (Text is compared by bytes, as a server with
//! the C collation does; under a linguistic collation the offline order of types may differ.)

use std::cmp::Ordering;

use chrono::{DateTime, Utc};

use crate::domain::{
    Machine, MachinePage, OperationalStatus, PageBoundary, SortColumn, SortDirection, StatusCount,
    ValidListQuery,
};

/// Every machine as of `saved_at`.
#[derive(Debug, Clone)]
pub struct FleetCopy {
    pub machines: Vec<Machine>,
    pub saved_at: DateTime<Utc>,
}

impl FleetCopy {
    /// The page the server would have answered, marked with the copy's time.
    pub fn page(&self, query: &ValidListQuery) -> MachinePage {
        let mut matching: Vec<&Machine> = self
            .machines
            .iter()
            .filter(|m| matches(m, query, true))
            .collect();
        if query.sort == SortColumn::MachineName {
            // Lower-casing once per machine, not once per comparison.
            matching.sort_by_cached_key(|m| (m.machine_name.to_lowercase(), m.id));
            if query.direction == SortDirection::Desc {
                matching.reverse();
            }
        } else {
            matching.sort_by(|a, b| compare(a, b, query.sort, query.direction));
        }
        let total = matching.len() as i64;
        let limit = usize::try_from(query.limit).unwrap_or(0);
        let offset = usize::try_from(query.offset).unwrap_or(usize::MAX);
        // A page next to a boundary row starts where that row stands in the order (it need not
        // match the filters any more); a boundary row not in the copy falls back to the offset.
        let boundary = query.boundary.and_then(|boundary| {
            let id = match boundary {
                PageBoundary::After(id) | PageBoundary::Before(id) => id,
            };
            self.machines
                .iter()
                .find(|m| m.id == id)
                .map(|row| (boundary, row))
        });
        let start = match boundary {
            Some((PageBoundary::After(_), row)) => {
                matching.partition_point(|m| ordering(m, row, query) != Ordering::Greater)
            }
            Some((PageBoundary::Before(_), row)) => matching
                .partition_point(|m| ordering(m, row, query) == Ordering::Less)
                .saturating_sub(limit),
            None => offset,
        };
        let end = match boundary {
            Some((PageBoundary::Before(_), row)) => {
                matching.partition_point(|m| ordering(m, row, query) == Ordering::Less)
            }
            _ => start.saturating_add(limit),
        };
        let machines = matching
            .into_iter()
            .skip(start)
            .take(end.saturating_sub(start))
            .cloned()
            .collect();
        MachinePage {
            machines,
            total,
            limit: query.limit,
            offset: query.offset,
            cached_at: Some(self.saved_at),
        }
    }

    /// Machines per status under the query's type and search filters, as the server counts.
    pub fn status_counts(&self, query: &ValidListQuery) -> Vec<StatusCount> {
        OperationalStatus::ALL
            .into_iter()
            .map(|status| StatusCount {
                status,
                count: self
                    .machines
                    .iter()
                    .filter(|m| m.operational_status == status && matches(m, query, false))
                    .count() as i64,
            })
            .collect()
    }

    /// The distinct machine types, sorted.
    pub fn machine_types(&self) -> Vec<String> {
        let mut types: Vec<String> = self
            .machines
            .iter()
            .map(|m| m.machine_type.clone())
            .collect();
        types.sort();
        types.dedup();
        types
    }

    pub fn get(&self, uid: uuid::Uuid) -> Option<Machine> {
        self.machines.iter().find(|m| m.uid == uid).cloned()
    }
}

/// Where `a` stands against `b` in the list's order (as the sorted page has them).
fn ordering(a: &Machine, b: &Machine, query: &ValidListQuery) -> Ordering {
    if query.sort == SortColumn::MachineName {
        let by_name =
            (a.machine_name.to_lowercase(), a.id).cmp(&(b.machine_name.to_lowercase(), b.id));
        return match query.direction {
            SortDirection::Asc => by_name,
            SortDirection::Desc => by_name.reverse(),
        };
    }
    compare(a, b, query.sort, query.direction)
}

/// The server's filters (`repo::machines_read::push_filters`).
fn matches(machine: &Machine, query: &ValidListQuery, by_status: bool) -> bool {
    (!by_status
        || query.statuses.is_empty()
        || query.statuses.contains(&machine.operational_status))
        && query
            .machine_type
            .as_ref()
            .is_none_or(|t| &machine.machine_type == t)
        && query.search.as_ref().is_none_or(|s| {
            machine
                .machine_name
                .to_lowercase()
                .contains(&s.to_lowercase())
        })
}

/// Efficiencies as the server orders them; one it cannot read (see `Machine::problems`) last.
fn compare_efficiency(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.total_cmp(&b),
        (a, b) => b.is_some().cmp(&a.is_some()),
    }
}

/// The server's order (`SortColumn::order_by`): the column, then `id` in the same direction.
fn compare(a: &Machine, b: &Machine, sort: SortColumn, direction: SortDirection) -> Ordering {
    let by_column = match sort {
        SortColumn::MachineName => a
            .machine_name
            .to_lowercase()
            .cmp(&b.machine_name.to_lowercase()),
        SortColumn::MachineType => a.machine_type.cmp(&b.machine_type),
        SortColumn::OperationalStatus => a
            .operational_status
            .as_str()
            .cmp(b.operational_status.as_str()),
        SortColumn::Efficiency => compare_efficiency(a.efficiency, b.efficiency),
        SortColumn::LastMaintenance => a.last_maintenance.cmp(&b.last_maintenance),
        SortColumn::UpdatedAt => a.updated_at.cmp(&b.updated_at),
        SortColumn::Id => Ordering::Equal,
    };
    let ordering = by_column.then(a.id.cmp(&b.id));
    match direction {
        SortDirection::Asc => ordering,
        SortDirection::Desc => ordering.reverse(),
    }
}
