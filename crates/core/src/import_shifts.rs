//! Import of shift counts from CSV (what a PLC or a historian exports): one shift per row, with
//! its machine by name, start and end, ideal cycle time and counts, and optionally its planned
//! stops, one downtime with its reason, and why a performance above 100 % is right. A dry run
//! reports every bad row (its line, column and reason: the same rules as the shift form, the
//! machine and the reason looked up on the server, overlaps within the file and with recorded
//! shifts); applying is all or nothing, in one transaction. Applying the same file twice
//! records nothing twice: every row then overlaps its own earlier record.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::{LossReason, RecordShift, ShiftInput, StopInput, ValidShift};
use crate::error::{from_sqlx, RegistryError};
use crate::import::{
    line_at, problem, separator, undefused, ImportProblem, ImportReport, APPLY_LIMIT,
    MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, MAX_REPORTED_PROBLEMS,
};
use crate::{repo, Registry};

/// The columns read, with the other headers a sheet may use for them; `true`: required.
const COLUMNS: [(&str, &[&str], bool); 11] = [
    ("machine_name", &["machine", "name", "machine name"], true),
    (
        "start",
        &["shift_start", "started_at", "from", "shift start"],
        true,
    ),
    ("end", &["shift_end", "ended_at", "to", "shift end"], true),
    (
        "ideal_cycle_s",
        &["ideal_cycle_time", "cycle_s", "ideal cycle time (s)"],
        true,
    ),
    (
        "total_count",
        &["total", "count", "parts", "produced"],
        true,
    ),
    (
        "startup_rejects",
        &["startup rejects", "start-up rejects"],
        false,
    ),
    (
        "production_rejects",
        &["rejects", "production rejects", "scrap"],
        false,
    ),
    (
        "planned_stop_min",
        &["planned_stops_min", "breaks_min"],
        false,
    ),
    ("downtime_min", &["downtime", "downtime (min)"], false),
    ("downtime_reason", &["reason", "downtime reason"], false),
    ("performance_reason", &["performance reason"], false),
];

/// A row that passed every check of the file itself; its machine and reason are looked up next.
struct Row {
    line: i64,
    machine_name: String,
    reason_name: Option<String>,
    shift: ShiftInput,
}

/// A row ready to record.
struct Ready {
    line: i64,
    shift: ValidShift,
}

fn number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

fn count(text: &str) -> Option<i64> {
    text.trim().parse::<i64>().ok()
}

/// Reads the file: the header names the required columns; each row's numbers must read.
fn parse(text: &str) -> (Vec<Row>, i64, Vec<ImportProblem>) {
    if text.len() > MAX_IMPORT_BYTES {
        let limit = MAX_IMPORT_BYTES / 1024 / 1024;
        return (
            Vec::new(),
            0,
            vec![problem(
                0,
                "",
                format!("the file is larger than {limit} MB: split it"),
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
    let mut problems = Vec::new();
    let mut index = HashMap::new();
    for (column, aliases, required) in COLUMNS {
        match headers
            .iter()
            .position(|h| h == column || aliases.contains(&h.as_str()))
        {
            Some(at) => {
                index.insert(column, at);
            }
            None if required => problems.push(problem(
                1,
                column,
                format!("the header has no {column} column"),
            )),
            None => {}
        }
    }
    if !problems.is_empty() {
        return (Vec::new(), 0, problems);
    }
    let mut rows = Vec::new();
    let mut rows_read = 0;
    for (records, record) in reader.records().enumerate() {
        if records >= MAX_IMPORT_ROWS {
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
        rows_read += 1;
        let field = |column: &str| -> String {
            index
                .get(column)
                .and_then(|at| record.get(*at))
                .map(undefused)
                .unwrap_or_default()
        };
        let mut bad = false;
        let mut read_number = |column: &str, default: Option<f64>| -> f64 {
            let text = field(column);
            match (text.trim(), default) {
                ("", Some(default)) => default,
                (raw, _) => number(raw).unwrap_or_else(|| {
                    problems.push(problem(
                        line,
                        column,
                        format!("“{raw}” is not a number (use a dot for decimals: 42.5)"),
                    ));
                    bad = true;
                    0.0
                }),
            }
        };
        let ideal_cycle_s = read_number("ideal_cycle_s", None);
        let planned_min = read_number("planned_stop_min", Some(0.0));
        let downtime_min = read_number("downtime_min", Some(0.0));
        for (column, minutes) in [
            ("planned_stop_min", planned_min),
            ("downtime_min", downtime_min),
        ] {
            if minutes < 0.0 {
                problems.push(problem(line, column, "Cannot be negative."));
                bad = true;
            }
        }
        let mut read_count = |column: &str, default: Option<i64>| -> i64 {
            let text = field(column);
            match (text.trim(), default) {
                ("", Some(default)) => default,
                (raw, _) => count(raw).unwrap_or_else(|| {
                    problems.push(problem(
                        line,
                        column,
                        format!("“{raw}” is not a whole number"),
                    ));
                    bad = true;
                    0
                }),
            }
        };
        let total_count = read_count("total_count", None);
        let startup_rejects = read_count("startup_rejects", Some(0));
        let production_rejects = read_count("production_rejects", Some(0));
        let reason = field("downtime_reason").trim().to_owned();
        if downtime_min > 0.0 && reason.is_empty() {
            problems.push(problem(
                line,
                "downtime_reason",
                "downtime needs its reason (a name from the reason list)",
            ));
            bad = true;
        }
        if bad {
            continue;
        }
        let minutes = |m: f64| StopInput {
            start: None,
            end: None,
            minutes: Some(m),
            reason_id: None,
            category: None,
        };
        let performance_reason = field("performance_reason");
        rows.push(Row {
            line,
            machine_name: field("machine_name").trim().to_owned(),
            reason_name: (downtime_min > 0.0).then_some(reason),
            shift: ShiftInput {
                machine_uid: Uuid::nil(),
                start: field("start"),
                end: field("end"),
                planned_stops: if planned_min > 0.0 {
                    vec![minutes(planned_min)]
                } else {
                    Vec::new()
                },
                downtime: if downtime_min > 0.0 {
                    vec![minutes(downtime_min)]
                } else {
                    Vec::new()
                },
                ideal_cycle_s,
                total_count,
                startup_rejects,
                production_rejects,
                performance_reason: (!performance_reason.trim().is_empty())
                    .then_some(performance_reason),
            },
        });
    }
    (rows, rows_read, problems)
}

/// A form's field name as the file's column.
fn column_of(field: &str) -> &str {
    match field {
        f if f.starts_with("downtime") && f.ends_with("category") => "downtime_reason",
        f if f.starts_with("downtime") => "downtime_min",
        f if f.starts_with("planned_stops") => "planned_stop_min",
        other => other,
    }
}

/// Rows of one machine whose times overlap an earlier-starting row's, as (line, the line of
/// the row reaching furthest before it).
fn overlaps_within(ready: &[Ready]) -> Vec<(i64, i64)> {
    let mut sorted: Vec<&Ready> = ready.iter().collect();
    sorted.sort_by_key(|r| (r.shift.machine_uid, r.shift.start));
    let mut found = Vec::new();
    let mut reach: Option<&Ready> = None;
    for row in sorted {
        match reach {
            Some(before)
                if before.shift.machine_uid == row.shift.machine_uid
                    && row.shift.start < before.shift.end =>
            {
                found.push((row.line, before.line));
                if row.shift.end > before.shift.end {
                    reach = Some(row);
                }
            }
            _ => reach = Some(row),
        }
    }
    found
}

const RECORDED_OVERLAPS: &str = "SELECT i.line
       FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::int8[])
            AS i(machine_uid, started_at, ended_at, line)
      WHERE EXISTS (SELECT 1 FROM shift_records s
                     WHERE s.machine_uid = i.machine_uid
                       AND s.started_at < i.ended_at AND s.ended_at > i.started_at
                       AND s.started_at > i.started_at - interval '24 hours')";

impl Registry {
    /// Checks `text` (a CSV of shift counts) and, when `apply` and nothing is wrong, records
    /// every shift in one transaction.
    pub async fn import_shifts(
        &self,
        text: &str,
        apply: bool,
    ) -> Result<ImportReport, RegistryError> {
        let (rows, rows_read, mut problems) = parse(text);
        self.ensure_schema().await?;
        let names: Vec<String> = rows.iter().map(|r| r.machine_name.clone()).collect();
        let (machines, may_enter): (Vec<(String, Uuid)>, bool) = self
            .db()
            .run(move |conn| {
                let names = names.clone();
                Box::pin(async move {
                    // Matched with the server's own case folding (its unique index's), keyed by
                    // the name as the file wrote it.
                    let machines = sqlx::query_as(
                        "SELECT DISTINCT n.name, m.uid
                           FROM unnest($1::text[]) AS n(name)
                           JOIN machines m ON lower(m.machine_name) = lower(n.name)",
                    )
                    .bind(names)
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(from_sqlx)?;
                    let may: bool = sqlx::query_scalar(
                        "SELECT has_column_privilege('public.shift_records', 'machine_uid', 'INSERT')",
                    )
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(from_sqlx)?;
                    Ok((machines, may))
                })
            })
            .await?;
        if !may_enter {
            problems.push(problem(
                0,
                "",
                "your database role may not enter shifts (an administrator can put you in mes_operator)",
            ));
        }
        let machines: HashMap<String, Uuid> = machines.into_iter().collect();
        let reasons: Vec<LossReason> = self.loss_reasons().await?;
        let now = Utc::now();
        let mut ready = Vec::new();
        for row in rows {
            let Some(uid) = machines.get(&row.machine_name) else {
                problems.push(problem(
                    row.line,
                    "machine_name",
                    format!("no machine is named “{}”", row.machine_name),
                ));
                continue;
            };
            let mut shift = row.shift;
            shift.machine_uid = *uid;
            if let (Some(name), Some(stop)) = (&row.reason_name, shift.downtime.first_mut()) {
                let found = reasons.iter().find(|r| {
                    !r.retired
                        && r.name.to_lowercase() == name.to_lowercase()
                        && r.category.is_downtime()
                });
                match found {
                    Some(reason) => {
                        stop.reason_id = Some(reason.id);
                        stop.category = Some(reason.category);
                    }
                    None => {
                        problems.push(problem(
                            row.line,
                            "downtime_reason",
                            format!("“{name}” is not a reason in use (see the reason list)"),
                        ));
                        continue;
                    }
                }
            }
            let write = RecordShift {
                write_id: Uuid::new_v4(),
                uid: Uuid::new_v4(),
                shift,
            };
            match write.validate(now) {
                Ok(shift) => ready.push(Ready {
                    line: row.line,
                    shift,
                }),
                Err(errors) => problems.extend(
                    errors
                        .into_iter()
                        .map(|e| problem(row.line, column_of(&e.field), e.message)),
                ),
            }
        }
        for (line, earlier) in overlaps_within(&ready) {
            problems.push(problem(
                line,
                "start",
                format!("overlaps the shift of the same machine on line {earlier}"),
            ));
        }
        let uids: Vec<Uuid> = ready.iter().map(|r| r.shift.machine_uid).collect();
        let starts: Vec<DateTime<Utc>> = ready.iter().map(|r| r.shift.start).collect();
        let ends: Vec<DateTime<Utc>> = ready.iter().map(|r| r.shift.end).collect();
        let lines: Vec<i64> = ready.iter().map(|r| r.line).collect();
        let recorded: Vec<i64> = self
            .db()
            .run(move |conn| {
                let (uids, starts, ends, lines) =
                    (uids.clone(), starts.clone(), ends.clone(), lines.clone());
                Box::pin(async move {
                    sqlx::query_scalar(RECORDED_OVERLAPS)
                        .bind(uids)
                        .bind(starts)
                        .bind(ends)
                        .bind(lines)
                        .fetch_all(conn)
                        .await
                        .map_err(from_sqlx)
                })
            })
            .await?;
        for line in recorded {
            problems.push(problem(
                line,
                "start",
                "overlaps a shift already recorded for this machine (imported before?)",
            ));
        }
        problems.sort_by_key(|p| p.line);
        let more = problems.len().saturating_sub(MAX_REPORTED_PROBLEMS) as i64;
        problems.truncate(MAX_REPORTED_PROBLEMS);
        let mut report = ImportReport {
            rows: rows_read,
            problems,
            more_problems: more,
            applied: false,
            created: 0,
        };
        if !apply || !report.problems.is_empty() || ready.is_empty() {
            return Ok(report);
        }
        let expected = ready.len();
        let client = self.client();
        let writes: Vec<(Uuid, Uuid, i64, ValidShift)> = ready
            .into_iter()
            .map(|r| (Uuid::new_v4(), Uuid::new_v4(), r.line, r.shift))
            .collect();
        let recorded = self
            .db()
            .long_transaction(
                APPLY_LIMIT,
                move |conn| {
                    Box::pin(async move {
                        for (write_id, uid, line, shift) in &writes {
                            match repo::insert_shift(conn, *write_id, *uid, shift, client).await {
                                Ok(_) => {}
                                // Another PC entered an overlapping shift meanwhile, or a
                                // machine or reason went: nothing is kept, the line says why.
                                Err(RegistryError::Validation(fields)) => {
                                    let why = fields
                                        .into_iter()
                                        .map(|f| f.message)
                                        .collect::<Vec<_>>()
                                        .join(" ");
                                    return Ok(Err((*line, why)));
                                }
                                Err(RegistryError::NotFound { .. }) => {
                                    return Ok(Err((
                                        *line,
                                        "the machine was deleted meanwhile".into(),
                                    )))
                                }
                                Err(other) => return Err(other),
                            }
                        }
                        Ok(Ok(writes.len()))
                    })
                },
                |done: &Result<usize, (i64, String)>| done.is_ok(),
            )
            .await?;
        match recorded {
            Ok(_) => {
                report.applied = true;
                report.created = expected as i64;
            }
            Err((line, why)) => {
                report
                    .problems
                    .push(problem(line, "", format!("{why} Nothing was imported.")))
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_historians_columns_and_reports_bad_numbers() {
        let text = "Machine;Shift Start;Shift End;Cycle_s;Parts;Scrap;Downtime;Reason\n\
                    P-1;2026-11-01T06:00:00Z;2026-11-01T14:00:00Z;60;400;40;48;Motor failure\n\
                    \n\
                    P-2;2026-11-01T06:00:00Z;2026-11-01T14:00:00Z;fast;4x0;;30;\n";
        let (rows, read, problems) = parse(text);
        assert_eq!(read, 2);
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!((row.line, row.machine_name.as_str()), (2, "P-1"));
        assert_eq!(row.shift.production_rejects, 40);
        assert_eq!(row.shift.downtime[0].minutes, Some(48.0));
        assert_eq!(row.reason_name.as_deref(), Some("Motor failure"));
        let found: Vec<_> = problems
            .iter()
            .map(|p| (p.line, p.field.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (4, "ideal_cycle_s"),
                (4, "total_count"),
                (4, "downtime_reason")
            ]
        );
    }

    #[test]
    fn a_header_without_the_required_columns_is_one_problem_each() {
        let (rows, _, problems) = parse("machine_name,start\nP-1,2026-11-01T06:00:00Z\n");
        assert!(rows.is_empty());
        let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["end", "ideal_cycle_s", "total_count"]);
    }

    #[test]
    fn overlapping_rows_of_one_machine_are_found() {
        let shift = |machine: u128, start: &str, end: &str| ValidShift {
            machine_uid: Uuid::from_u128(machine),
            start: start.parse().unwrap_or_default(),
            end: end.parse().unwrap_or_default(),
            planned_stops: vec![],
            downtime: vec![],
            ideal_cycle_s: 1.0,
            total_count: 0,
            startup_rejects: 0,
            production_rejects: 0,
            performance_reason: None,
        };
        let ready = vec![
            Ready {
                line: 2,
                shift: shift(1, "2026-11-01T06:00:00Z", "2026-11-01T14:00:00Z"),
            },
            Ready {
                line: 3,
                shift: shift(2, "2026-11-01T06:00:00Z", "2026-11-01T14:00:00Z"),
            },
            Ready {
                line: 4,
                shift: shift(1, "2026-11-01T13:00:00Z", "2026-11-01T21:00:00Z"),
            },
            Ready {
                line: 5,
                shift: shift(1, "2026-11-01T21:00:00Z", "2026-11-02T05:00:00Z"),
            },
            // Inside line 6's shift, after line 7 began: found too (a neighbour check misses it).
            Ready {
                line: 6,
                shift: shift(3, "2026-11-01T06:00:00Z", "2026-11-01T22:00:00Z"),
            },
            Ready {
                line: 7,
                shift: shift(3, "2026-11-01T07:00:00Z", "2026-11-01T08:00:00Z"),
            },
            Ready {
                line: 8,
                shift: shift(3, "2026-11-01T09:00:00Z", "2026-11-01T10:00:00Z"),
            },
        ];
        assert_eq!(overlaps_within(&ready), [(4, 2), (7, 6), (8, 6)]);
    }
}
