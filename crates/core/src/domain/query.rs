use serde::{Deserialize, Serialize};

use super::input::collect;
use super::text::bounded_text;
use super::{Machine, OperationalStatus};
use crate::error::FieldError;

/// Largest page a client may ask for: bounded so one request cannot pull the whole fleet.
pub const MAX_PAGE_SIZE: i64 = 500;
/// Deepest offset accepted; paging past ten million rows is a client bug, not a use.
pub const MAX_OFFSET: i64 = 10_000_000;

/// Columns a list can be sorted by. An enum, never a string: it becomes SQL only through
/// [`SortColumn::order_by`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum SortColumn {
    #[default]
    MachineName,
    MachineType,
    OperationalStatus,
    Efficiency,
    LastMaintenance,
    UpdatedAt,
    Id,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum SortDirection {
    #[default]
    Asc,
    Desc,
}

impl SortColumn {
    pub const ALL: [SortColumn; 7] = [
        Self::MachineName,
        Self::MachineType,
        Self::OperationalStatus,
        Self::Efficiency,
        Self::LastMaintenance,
        Self::UpdatedAt,
        Self::Id,
    ];

    /// The ORDER BY expression. Names sort ignoring case (as people read them) and are unique that
    /// way; every other column is followed by `id`, so equal values keep a stable order across pages.
    pub(crate) fn order_by(self, direction: SortDirection) -> &'static str {
        use SortColumn::*;
        use SortDirection::*;
        match (self, direction) {
            (MachineName, Asc) => "lower(machine_name) ASC",
            (MachineName, Desc) => "lower(machine_name) DESC",
            (MachineType, Asc) => "machine_type ASC, id ASC",
            (MachineType, Desc) => "machine_type DESC, id DESC",
            (OperationalStatus, Asc) => "operational_status ASC, id ASC",
            (OperationalStatus, Desc) => "operational_status DESC, id DESC",
            (Efficiency, Asc) => "efficiency ASC, id ASC",
            (Efficiency, Desc) => "efficiency DESC, id DESC",
            (LastMaintenance, Asc) => "last_maintenance ASC, id ASC",
            (LastMaintenance, Desc) => "last_maintenance DESC, id DESC",
            (UpdatedAt, Asc) => "updated_at ASC, id ASC",
            (UpdatedAt, Desc) => "updated_at DESC, id DESC",
            (Id, Asc) => "id ASC",
            (Id, Desc) => "id DESC",
        }
    }
}

/// A page request as a client sends it. Numbers are wide and strings raw so that a negative or
/// absurd value gets a field error instead of a deserialisation failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ListQuery {
    pub sort: SortColumn,
    pub direction: SortDirection,
    /// Only machines with one of these statuses; empty means all.
    pub statuses: Vec<String>,
    /// Only machines of exactly this type (as listed by `machine_types`); `null` or blank means all.
    pub machine_type: Option<String>,
    /// Machines whose name contains this text, ignoring case; `null` or blank means all.
    pub search: Option<String>,
    /// Page size, 1 to 500.
    pub limit: i64,
    /// Rows to skip, 0 to 10,000,000 (used when no boundary row is given, or it is gone).
    pub offset: i64,
    /// The page after the machine with this id, in the list's order (the last row of the page
    /// shown: "Next"). A deep page then costs what the first does.
    #[serde(default)]
    pub after_id: Option<i32>,
    /// The page before the machine with this id (the first row of the page shown: "Previous").
    #[serde(default)]
    pub before_id: Option<i32>,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            sort: SortColumn::default(),
            direction: SortDirection::default(),
            statuses: Vec::new(),
            machine_type: None,
            search: None,
            limit: 100,
            offset: 0,
            after_id: None,
            before_id: None,
        }
    }
}

/// A list query whose every part is known to be valid.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidListQuery {
    pub sort: SortColumn,
    pub direction: SortDirection,
    pub statuses: Vec<OperationalStatus>,
    pub machine_type: Option<String>,
    pub search: Option<String>,
    pub limit: i64,
    pub offset: i64,
    pub boundary: Option<PageBoundary>,
}

/// Where a page begins, by a row of the page next to it (keyset paging).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageBoundary {
    After(i32),
    Before(i32),
}

impl ListQuery {
    pub fn validate(&self) -> Result<ValidListQuery, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut statuses = Vec::new();
        for raw in &self.statuses {
            if let Some(status) = collect(&mut errors, "statuses", OperationalStatus::parse(raw)) {
                if !statuses.contains(&status) {
                    statuses.push(status);
                }
            }
        }
        let machine_type = optional_text(
            &mut errors,
            "machine_type",
            "Type filter",
            &self.machine_type,
        );
        let search = optional_text(&mut errors, "search", "Search", &self.search);
        if !(1..=MAX_PAGE_SIZE).contains(&self.limit) {
            errors.push(FieldError::new(
                "limit",
                format!(
                    "Page size must be from 1 to {MAX_PAGE_SIZE} (got {})",
                    self.limit
                ),
            ));
        }
        if !(0..=MAX_OFFSET).contains(&self.offset) {
            errors.push(FieldError::new(
                "offset",
                format!(
                    "Offset must be from 0 to {MAX_OFFSET} (got {})",
                    self.offset
                ),
            ));
        }
        let boundary = match (self.after_id, self.before_id) {
            (None, None) => None,
            (Some(id), None) => Some(PageBoundary::After(id)),
            (None, Some(id)) => Some(PageBoundary::Before(id)),
            (Some(_), Some(_)) => {
                errors.push(FieldError::new(
                    "after_id",
                    "A page is after one row or before another, not both",
                ));
                None
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ValidListQuery {
            sort: self.sort,
            direction: self.direction,
            statuses,
            machine_type,
            search,
            limit: self.limit,
            offset: self.offset,
            boundary,
        })
    }
}

/// Blank means "no filter"; anything else must be sensible text.
fn optional_text(
    errors: &mut Vec<FieldError>,
    field: &str,
    label: &str,
    raw: &Option<String>,
) -> Option<String> {
    match raw.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => collect(errors, field, bounded_text(text, label)),
    }
}

/// One page of machines and how many match the filters in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct MachinePage {
    pub machines: Vec<Machine>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
    /// Set when the database is unreachable and this is the last list seen: the time it was
    /// current. `null` for a live answer.
    pub cached_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_paging_and_status() {
        let query = ListQuery {
            statuses: vec!["Exploded".into()],
            limit: -5,
            offset: -1,
            ..ListQuery::default()
        };
        let fields: Vec<String> = query
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["statuses", "limit", "offset"]);
        let absurd = ListQuery {
            limit: 1_000_000,
            ..ListQuery::default()
        };
        assert!(absurd.validate().is_err());
    }

    #[test]
    fn blank_filters_mean_none() {
        let query = ListQuery {
            search: Some("  ".into()),
            machine_type: Some(String::new()),
            ..ListQuery::default()
        };
        let valid = query.validate().ok();
        assert_eq!(valid.as_ref().and_then(|q| q.search.clone()), None);
        assert_eq!(valid.and_then(|q| q.machine_type), None);
    }
}
