//! Import of machines from CSV (a sheet another tool or a planner made, or this app's export).
//! A dry run reports every bad row, with its line, field and reason; applying is all or
//! nothing: one transaction that creates every machine or none. It needs the database (names
//! must be checked against the server's), so it is not queued offline.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{MachineInput, ValidMachine};
use crate::error::{from_sqlx, RegistryError};
use crate::{repo, Registry};

/// The most rows one import takes (a plant's whole registry fits many times over).
pub const MAX_IMPORT_ROWS: usize = 10_000;
/// The largest text one import reads (10,000 rows of generous width).
pub const MAX_IMPORT_BYTES: usize = 8 * 1024 * 1024;
/// The most problems reported one by one; the rest are counted.
pub const MAX_REPORTED_PROBLEMS: usize = 500;
/// How long the apply may take (one statement creating up to 10,000 machines with their
/// history): far beyond the per-call deadline, which is for an operator's single write.
pub(crate) const APPLY_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

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
    /// Every problem found (the first 500, by line); none means the import can be (or was)
    /// applied.
    pub problems: Vec<ImportProblem>,
    /// Problems found beyond those listed.
    pub more_problems: i64,
    /// True when the machines were created (never with a problem).
    pub applied: bool,
    pub created: i64,
}

/// A row that passed every check of the file itself.
struct Row {
    line: i64,
    machine: ValidMachine,
}

pub(crate) fn problem(line: i64, field: &str, reason: impl Into<String>) -> ImportProblem {
    ImportProblem {
        line,
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// The separator the header line uses: a comma, or the semicolon a spreadsheet set to a
/// language with a decimal comma writes, or a tab (pasted cells).
pub(crate) fn separator(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or_default();
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|sep| header.bytes().filter(|b| b == sep).count())
        .filter(|sep| header.as_bytes().contains(sep))
        .unwrap_or(b',')
}

/// Reads and checks the file: the header names the five columns (other columns are ignored),
/// and each row must make a valid machine. (Names are compared with the server's own case
/// folding, in [`Registry::import_machines`].)
fn parse(text: &str, now: DateTime<Utc>) -> (Vec<Row>, i64, Vec<ImportProblem>) {
    let mut problems = Vec::new();
    if text.len() > MAX_IMPORT_BYTES {
        return (
            Vec::new(),
            0,
            vec![problem(
                0,
                "",
                format!(
                    "the file is larger than {} MB: split it",
                    MAX_IMPORT_BYTES / 1024 / 1024
                ),
            )],
        );
    }
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .delimiter(separator(text))
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
    let mut records = 0usize;
    for record in reader.records() {
        records += 1;
        if records > MAX_IMPORT_ROWS {
            problems.push(problem(
                0,
                "",
                format!("more than {MAX_IMPORT_ROWS} rows: split the file"),
            ));
            break;
        }
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
            Ok(machine) => rows.push(Row { line, machine }),
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
pub(crate) fn line_at(text: &str, byte: u64) -> i64 {
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

/// The export writes text a spreadsheet would run as a formula, or that starts with an
/// apostrophe, behind one more apostrophe: taken off again (exactly one).
pub(crate) fn undefused(raw: &str) -> String {
    match raw.strip_prefix('\'') {
        Some(rest) if crate::export::needs_defusing(rest) => rest.to_owned(),
        _ => raw.to_owned(),
    }
}

/// Names checked on the server, with its own case folding (the one its unique index uses):
/// a name twice in the file, or already taken.
const NAME_CHECK: &str = "WITH input AS (
         SELECT name, line FROM unnest($1::text[], $2::int8[]) AS t(name, line)
     ), firsts AS (
         SELECT line, first_value(line) OVER (PARTITION BY lower(name) ORDER BY line) AS first
         FROM input
     )
     SELECT i.line, 'twice' AS why, f.first::text AS detail
     FROM input i JOIN firsts f USING (line) WHERE f.first <> i.line
     UNION ALL
     SELECT i.line, 'taken', m.machine_name
     FROM input i JOIN machines m ON lower(m.machine_name) = lower(i.name)
     UNION ALL
     SELECT 0, 'role', NULL
     WHERE NOT (has_table_privilege('public.machines', 'INSERT')
                AND has_table_privilege('public.applied_writes', 'INSERT'))";

impl Registry {
    /// Checks `text` (a CSV of machines) and, when `apply` and nothing is wrong, creates every
    /// machine in one transaction. Names already taken on the server, or twice in the file, are
    /// problems too, as is a role that may not create machines.
    pub async fn import_machines(
        &self,
        text: &str,
        apply: bool,
    ) -> Result<ImportReport, RegistryError> {
        let (rows, count, mut problems) = parse(text, Utc::now());
        self.ensure_schema().await?;
        let names: Vec<String> = rows
            .iter()
            .map(|r| r.machine.name.as_str().to_owned())
            .collect();
        let lines: Vec<i64> = rows.iter().map(|r| r.line).collect();
        let found: Vec<(i64, String, Option<String>)> = self
            .db()
            .run(move |conn| {
                let (names, lines) = (names.clone(), lines.clone());
                Box::pin(async move {
                    sqlx::query_as(NAME_CHECK)
                        .bind(names)
                        .bind(lines)
                        .fetch_all(conn)
                        .await
                        .map_err(from_sqlx)
                })
            })
            .await?;
        for (line, why, detail) in found {
            let detail = detail.unwrap_or_default();
            problems.push(match why.as_str() {
                "twice" => problem(
                    line,
                    "machine_name",
                    format!("the same name as on line {detail} (names are unique, ignoring case)"),
                ),
                "taken" => problem(
                    line,
                    "machine_name",
                    format!("a machine named “{detail}” already exists"),
                ),
                _ => problem(
                    0,
                    "",
                    "your database role may not create machines (an administrator can put you in mes_operator)",
                ),
            });
        }
        problems.sort_by_key(|p| p.line);
        let more = problems.len().saturating_sub(MAX_REPORTED_PROBLEMS) as i64;
        problems.truncate(MAX_REPORTED_PROBLEMS);
        let mut report = ImportReport {
            rows: count,
            problems,
            more_problems: more,
            applied: false,
            created: 0,
        };
        if !apply || !report.problems.is_empty() || rows.is_empty() {
            return Ok(report);
        }
        // Ids made once: after a lost answer, the first one tells whether the import landed.
        let writes: Vec<(Uuid, Uuid, i64, ValidMachine)> = rows
            .into_iter()
            .map(|r| (Uuid::new_v4(), Uuid::new_v4(), r.line, r.machine))
            .collect();
        let first_write = writes.first().map(|w| w.0).unwrap_or_default();
        let expected = writes.len();
        let client = self.client();
        let batch_writes = writes.clone();
        let done = self
            .db()
            .long_transaction(
                APPLY_LIMIT,
                move |conn| {
                    Box::pin(async move {
                        let batch: Vec<repo::BatchCreate<'_>> = batch_writes
                            .iter()
                            .map(|(write_id, uid, _, machine)| repo::BatchCreate {
                                write_id: *write_id,
                                uid: *uid,
                                machine,
                            })
                            .collect();
                        repo::create_machines(conn, &batch, client).await
                    })
                },
                // All or nothing: a name taken meanwhile by another PC rolls everything back.
                |done| done.len() == expected,
            )
            .await;
        match done {
            Ok(done) if done.len() == expected => {
                report.applied = true;
                report.created = expected as i64;
            }
            Ok(done) => {
                let done: std::collections::HashSet<Uuid> = done.into_iter().collect();
                for (write_id, _, line, machine) in &writes {
                    if !done.contains(write_id) {
                        report.problems.push(problem(
                            *line,
                            "machine_name",
                            format!(
                                "“{}” was taken by another PC meanwhile: nothing was imported",
                                machine.name.as_str()
                            ),
                        ));
                    }
                }
            }
            Err(error) if error.is_transient() => {
                // The answer was lost: the import landed whole or not at all.
                if repo::write_was_applied(self.pool(), first_write).await? {
                    report.applied = true;
                    report.created = expected as i64;
                } else {
                    return Err(error);
                }
            }
            Err(error) => return Err(error),
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
                    \"CNC\n102\",Lathe,Idle,50,2024-01-10T08:00:00Z,\n\
                    '=EVIL,Lathe,Down,0,2024-01-10T08:00:00Z,\n\
                    ''quoted,Lathe,Down,0,2024-01-10T08:00:00Z,\n";
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
                (6, "machine_name"),
            ]
        );
        let names: Vec<&str> = rows.iter().map(|r| r.machine.name.as_str()).collect();
        assert_eq!(names, ["CNC-101", "=EVIL", "'quoted"]);
        assert_eq!(rows[1].line, 8, "after a field spanning two lines");
    }

    #[test]
    fn a_semicolon_sheet_is_read_too() {
        let text =
            "Name;Type;Status;Efficiency;Last maintenance\nA;Press;Idle;50;2024-01-10T08:00:00Z\n";
        let (rows, count, problems) = parse(text, now());
        assert_eq!((rows.len(), count, problems.len()), (1, 1, 0));
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
