//! Import of machines from CSV (a sheet another tool or a planner made, or this app's export).
//! A dry run reports every bad row, with its line, field and reason; applying is all or
//! nothing: one transaction that creates every machine or none. It needs the database (names
//! must be checked against the server's), so it is not queued offline.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Connection;
use uuid::Uuid;

use crate::domain::{MachineInput, ValidMachine};
use crate::error::{from_sqlx, RegistryError};
use crate::{repo, Registry};

/// The most rows one import takes (a plant's whole registry fits many times over).
pub const MAX_IMPORT_ROWS: usize = 10_000;

/// The columns read, by their export names, with the other headers a sheet may use for them.
const COLUMNS: [(&str, &[&str]); 5] = [
    ("machine_name", &["name", "machine name", "machine"]),
    ("machine_type", &["type", "machine type"]),
    ("operational_status", &["status", "operational status"]),
    ("efficiency", &["efficiency (%)", "oee", "efficiency %"]),
    (
        "last_maintenance",
        &["last maintenance", "last maintenance (utc)"],
    ),
];

/// One thing wrong with the file: its line (1 is the header), the column, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ImportProblem {
    pub line: i64,
    pub field: String,
    pub reason: String,
}

/// What an import found, and whether it created the machines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ImportReport {
    /// Data rows read (blank lines skipped).
    pub rows: i64,
    /// Every problem found; none means the import can be (or was) applied.
    pub problems: Vec<ImportProblem>,
    /// True when the machines were created (never with a problem).
    pub applied: bool,
    pub created: i64,
}

/// A row that passed every check of the file itself.
struct Row {
    line: i64,
    machine: ValidMachine,
}

fn problem(line: i64, field: &str, reason: impl Into<String>) -> ImportProblem {
    ImportProblem {
        line,
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// Reads and checks the file: the header names the five columns (other columns are ignored),
/// each row must make a valid machine, and no two rows may name the same machine.
fn parse(text: &str, now: DateTime<Utc>) -> (Vec<Row>, i64, Vec<ImportProblem>) {
    let mut problems = Vec::new();
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(headers) => headers.iter().map(|h| h.trim().to_lowercase()).collect(),
        Err(e) => return (Vec::new(), 0, vec![problem(1, "", format!("not CSV: {e}"))]),
    };
    let mut index = HashMap::new();
    for (column, aliases) in COLUMNS {
        match headers
            .iter()
            .position(|h| h == column || aliases.contains(&h.as_str()))
        {
            Some(at) => {
                index.insert(column, at);
            }
            None => problems.push(problem(
                1,
                column,
                format!("the header has no {column} column"),
            )),
        }
    }
    if !problems.is_empty() {
        return (Vec::new(), 0, problems);
    }
    let mut rows = Vec::new();
    let mut count = 0;
    let mut names: HashMap<String, i64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as i64);
                problems.push(problem(line, "", format!("not readable as CSV: {e}")));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| line_at(text, p.byte()));
        if record.iter().all(|field| field.trim().is_empty()) {
            continue;
        }
        count += 1;
        if count as usize > MAX_IMPORT_ROWS {
            problems.push(problem(
                line,
                "",
                format!("more than {MAX_IMPORT_ROWS} machines: split the file"),
            ));
            break;
        }
        let field = |column: &str| -> String {
            index
                .get(column)
                .and_then(|at| record.get(*at))
                .map(undefused)
                .unwrap_or_default()
        };
        let efficiency_text = field("efficiency");
        let efficiency = match efficiency_text.trim() {
            "" => None,
            text => match text.parse::<f64>() {
                Ok(value) => Some(value),
                Err(_) => {
                    problems.push(problem(
                        line,
                        "efficiency",
                        format!("“{text}” is not a number (use a dot for decimals: 85.5)"),
                    ));
                    continue;
                }
            },
        };
        let input = MachineInput {
            machine_name: field("machine_name"),
            machine_type: field("machine_type"),
            operational_status: field("operational_status"),
            efficiency,
            last_maintenance: field("last_maintenance"),
        };
        match input.validate(now) {
            Ok(machine) => {
                let key = machine.name.as_str().to_lowercase();
                if let Some(first) = names.get(&key) {
                    problems.push(problem(
                        line,
                        "machine_name",
                        format!(
                            "“{}” is also on line {first} (names are unique, ignoring case)",
                            machine.name.as_str()
                        ),
                    ));
                } else {
                    names.insert(key, line);
                    rows.push(Row { line, machine });
                }
            }
            Err(errors) => problems.extend(
                errors
                    .into_iter()
                    .map(|e| problem(line, &e.field, e.message)),
            ),
        }
    }
    (rows, count, problems)
}

/// The line a record starting at `byte` begins on. (The reader's own line count starts a record
/// at the blank lines before it.)
fn line_at(text: &str, byte: u64) -> i64 {
    let start = usize::try_from(byte).unwrap_or(usize::MAX).min(text.len());
    let before = text.as_bytes().get(..start).unwrap_or_default();
    let mut line = 1 + before.iter().filter(|b| **b == b'\n').count() as i64;
    for b in text.as_bytes().get(start..).unwrap_or_default() {
        match b {
            b'\n' => line += 1,
            b'\r' => {}
            _ => break,
        }
    }
    line
}

/// The export writes text a spreadsheet would run as a formula behind an apostrophe: taken off.
fn undefused(raw: &str) -> String {
    match raw.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest.to_owned(),
        _ => raw.to_owned(),
    }
}

impl Registry {
    /// Checks `text` (a CSV of machines) and, when `apply` and nothing is wrong, creates every
    /// machine in one transaction. Names already taken on the server are problems too.
    pub async fn import_machines(
        &self,
        text: &str,
        apply: bool,
    ) -> Result<ImportReport, RegistryError> {
        let (rows, count, mut problems) = parse(text, Utc::now());
        self.ensure_schema().await?;
        let wanted: Vec<String> = rows
            .iter()
            .map(|r| r.machine.name.as_str().to_lowercase())
            .collect();
        let taken: Vec<String> = self
            .db()
            .run(move |conn| {
                let wanted = wanted.clone();
                Box::pin(async move {
                    sqlx::query_scalar(
                        "SELECT machine_name FROM machines WHERE lower(machine_name) = ANY($1)",
                    )
                    .bind(wanted)
                    .fetch_all(conn)
                    .await
                    .map_err(from_sqlx)
                })
            })
            .await?;
        let taken: HashMap<String, String> = taken
            .into_iter()
            .map(|name| (name.to_lowercase(), name))
            .collect();
        for row in &rows {
            if let Some(existing) = taken.get(&row.machine.name.as_str().to_lowercase()) {
                problems.push(problem(
                    row.line,
                    "machine_name",
                    format!("a machine named “{existing}” already exists"),
                ));
            }
        }
        problems.sort_by_key(|p| p.line);
        let mut report = ImportReport {
            rows: count,
            problems,
            applied: false,
            created: 0,
        };
        if !apply || !report.problems.is_empty() || rows.is_empty() {
            return Ok(report);
        }
        // Ids made once: a retry after a lost answer is recognised, never applied twice.
        let writes: Vec<(Uuid, Uuid, ValidMachine)> = rows
            .into_iter()
            .map(|r| (Uuid::new_v4(), Uuid::new_v4(), r.machine))
            .collect();
        let client = self.client();
        let created = self
            .db()
            .run(move |conn| {
                let writes = writes.clone();
                Box::pin(async move {
                    let batch: Vec<repo::BatchCreate<'_>> = writes
                        .iter()
                        .map(|(write_id, uid, machine)| repo::BatchCreate {
                            write_id: *write_id,
                            uid: *uid,
                            machine,
                        })
                        .collect();
                    let mut tx = conn.begin().await.map_err(from_sqlx)?;
                    let done = repo::create_machines(&mut tx, &batch, client).await?;
                    if done.len() != batch.len() {
                        // A name taken meanwhile by another PC: nothing is created.
                        tx.rollback().await.map_err(from_sqlx)?;
                        return Ok(None);
                    }
                    tx.commit().await.map_err(from_sqlx)?;
                    Ok(Some(done.len() as i64))
                })
            })
            .await?;
        match created {
            Some(created) => {
                report.applied = true;
                report.created = created;
            }
            None => report.problems.push(problem(
                0,
                "machine_name",
                "another PC took one of these names meanwhile: nothing was imported; check again",
            )),
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-03-01T00:00:00Z".parse().unwrap_or_default()
    }

    #[test]
    fn reads_the_exports_columns_and_reports_every_bad_row() {
        let text =
            "\u{feff}machine_name,machine_type,operational_status,efficiency,last_maintenance,id\n\
                    CNC-101,Milling Machine,Running,85.5,2024-01-10T08:00:00Z,7\n\
                    \n\
                    ,Lathe,Exploded,101,yesterday,8\n\
                    cnc-101,Lathe,Idle,\"85,5\",2024-01-10T08:00:00Z,9\n\
                    CNC-102,Lathe,Idle,50,2024-01-10T08:00:00Z,\n\
                    cnc-102,Lathe,Idle,50,2024-01-10T08:00:00Z,\n\
                    '=EVIL,Lathe,Down,0,2024-01-10T08:00:00Z,\n";
        let (rows, count, problems) = parse(text, now());
        assert_eq!(count, 6);
        let found: Vec<(i64, &str)> = problems
            .iter()
            .map(|p| (p.line, p.field.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (4, "machine_name"),
                (4, "operational_status"),
                (4, "efficiency"),
                (4, "last_maintenance"),
                (5, "efficiency"),
                (7, "machine_name"),
            ]
        );
        assert!(problems[5].reason.contains("also on line 6"));
        let names: Vec<&str> = rows.iter().map(|r| r.machine.name.as_str()).collect();
        assert_eq!(names, ["CNC-101", "CNC-102", "=EVIL"]);
    }

    #[test]
    fn a_header_without_a_needed_column_is_refused_once() {
        let (rows, _, problems) = parse("Name,Type\nA,B\n", now());
        assert!(rows.is_empty());
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            ["operational_status", "efficiency", "last_maintenance"]
        );
    }
}
