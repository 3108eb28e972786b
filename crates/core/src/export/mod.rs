//! Export of what a planner looks at (the filtered list, the reliability table, a machine's
//! history) as CSV or XLSX files. A table is built once as a [`Sheet`] of typed cells; each
//! format writes it its own way.

mod csv_file;
mod file;
mod oee_sheets;
mod sheets;
mod xlsx_file;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{ListQuery, TimeRange};

pub use csv_file::{needs_defusing, to_csv};
pub use file::write_export;
pub use oee_sheets::oee_sheets;
pub use sheets::{history_sheet, machines_sheet, reliability_sheets};
pub use xlsx_file::to_xlsx;

/// One value of a table, typed so that a spreadsheet gets numbers and dates, not text.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Integer(i64),
    /// Written in UTC (CSV: RFC 3339 ending in Z; XLSX: a date cell).
    Instant(DateTime<Utc>),
    Empty,
}

/// A table with a name (the XLSX worksheet, the CSV file's stem) and a header row.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
        }
    }
}

/// What to export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExportRequest {
    /// Every machine the list's filters and sort select (all pages).
    Machines { query: ListQuery },
    /// The reliability table over a range, per machine (and per type: a second XLSX sheet, or
    /// a second CSV file).
    Reliability { range: TimeRange },
    /// A machine's change history, one row per changed field.
    History { uid: Uuid },
    /// The OEE tables over a range: per type and per machine, and the days and the downtime
    /// by reason and loss of the fleet, of one type (`machine_type`) or one machine (`machine`).
    Oee {
        range: TimeRange,
        machine_type: Option<String>,
        #[serde(default)]
        machine: Option<Uuid>,
    },
}

/// A file written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ExportedFile {
    /// Where each file was written (one per sheet for CSV, one workbook for XLSX).
    pub paths: Vec<String>,
    /// Data rows written, all sheets together.
    pub rows: i64,
    /// Set when the list came from the offline copy, not the server: the time it was current.
    pub cached_at: Option<DateTime<Utc>>,
}
