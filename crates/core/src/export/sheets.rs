//! The tables the window shows, as sheets: the same columns, numbers and instants typed.

use super::{Cell, Sheet};
use crate::domain::{HistoryEntry, Machine, MachineReliability, ReliabilityReport, StatusTimes};

/// The machine list's columns. The first five are what the machine import reads back.
pub const MACHINE_COLUMNS: [&str; 9] = [
    "machine_name",
    "machine_type",
    "operational_status",
    "efficiency",
    "last_maintenance",
    "id",
    "uid",
    "version",
    "problems",
];

pub fn machines_sheet(machines: &[Machine]) -> Sheet {
    Sheet {
        name: "Machines".into(),
        columns: MACHINE_COLUMNS.iter().map(|c| (*c).to_owned()).collect(),
        rows: machines
            .iter()
            .map(|m| {
                vec![
                    Cell::Text(m.machine_name.clone()),
                    Cell::Text(m.machine_type.clone()),
                    Cell::Text(m.operational_status.as_str().to_owned()),
                    m.efficiency.map_or(Cell::Empty, Cell::Number),
                    m.last_maintenance.map_or(Cell::Empty, Cell::Instant),
                    Cell::Integer(m.id.into()),
                    Cell::Text(m.uid.to_string()),
                    Cell::Integer(m.version),
                    Cell::Text(m.problems.join(" · ")),
                ]
            })
            .collect(),
    }
}

const HOURS: f64 = 3600.0;

fn hours(seconds: f64) -> Cell {
    Cell::Number((seconds / HOURS * 1000.0).round() / 1000.0)
}

fn optional_hours(seconds: Option<f64>) -> Cell {
    seconds.map_or(Cell::Empty, hours)
}

fn time_cells(times: &StatusTimes) -> Vec<Cell> {
    vec![
        hours(times.running_s),
        hours(times.idle_s),
        hours(times.maintenance_s),
        hours(times.down_s),
        Cell::Integer(times.down_periods),
        Cell::Integer(times.failures),
    ]
}

const TIME_COLUMNS: [&str; 8] = [
    "running_h",
    "idle_h",
    "maintenance_h",
    "down_h",
    "down_periods",
    "failures",
    "mttr_h",
    "mtbf_h",
];

/// Per machine (most Down time first, as the window lists them), then per type.
pub fn reliability_sheets(report: &ReliabilityReport) -> Vec<Sheet> {
    let mut machines: Vec<&MachineReliability> = report.machines.iter().collect();
    machines.sort_by(|a, b| {
        b.times
            .down_s
            .total_cmp(&a.times.down_s)
            .then_with(|| a.machine_name.cmp(&b.machine_name))
    });
    let range = vec![
        Cell::Instant(report.range.from),
        Cell::Instant(report.range.to),
    ];
    let by_machine = Sheet {
        name: "Reliability by machine".into(),
        columns: ["machine_name", "machine_type", "deleted"]
            .iter()
            .chain(TIME_COLUMNS.iter())
            .chain(["from", "to"].iter())
            .map(|c| (*c).to_owned())
            .collect(),
        rows: machines
            .iter()
            .map(|m| {
                let mut row = vec![
                    Cell::Text(m.machine_name.clone()),
                    Cell::Text(m.machine_type.clone()),
                    Cell::Text(if m.deleted { "yes" } else { "no" }.into()),
                ];
                row.extend(time_cells(&m.times));
                row.extend([optional_hours(m.mttr_s), optional_hours(m.mtbf_s)]);
                row.extend(range.clone());
                row
            })
            .collect(),
    };
    let by_type = Sheet {
        name: "Reliability by type".into(),
        columns: ["machine_type", "machines"]
            .iter()
            .chain(TIME_COLUMNS.iter())
            .chain(["from", "to"].iter())
            .map(|c| (*c).to_owned())
            .collect(),
        rows: report
            .types
            .iter()
            .map(|t| {
                let mut row = vec![
                    Cell::Text(t.machine_type.clone()),
                    Cell::Integer(t.machines),
                ];
                row.extend(time_cells(&t.times));
                row.extend([optional_hours(t.mttr_s), optional_hours(t.mtbf_s)]);
                row.extend(range.clone());
                row
            })
            .collect(),
    };
    vec![by_machine, by_type]
}

/// A machine's history, newest first, one row per changed field (a delete is one row).
pub fn history_sheet(machine_name: &str, entries: &[HistoryEntry]) -> Sheet {
    let mut rows = Vec::new();
    for entry in entries {
        let head = |rows: &mut Vec<Vec<Cell>>, field: &str, old: Cell, new: Cell| {
            rows.push(vec![
                Cell::Instant(entry.at),
                Cell::Text(entry.operation.clone()),
                Cell::Text(entry.user.clone()),
                Cell::Text(entry.application.clone()),
                Cell::Integer(entry.version),
                Cell::Text(field.to_owned()),
                old,
                new,
            ])
        };
        if entry.changes.is_empty() {
            head(&mut rows, "", Cell::Empty, Cell::Empty);
        }
        for change in &entry.changes {
            let text = |value: &Option<String>| value.clone().map_or(Cell::Empty, Cell::Text);
            head(
                &mut rows,
                &change.field,
                text(&change.old),
                text(&change.new),
            );
        }
    }
    Sheet {
        name: format!("History {machine_name}"),
        columns: [
            "at",
            "operation",
            "user",
            "application",
            "version",
            "field",
            "old",
            "new",
        ]
        .iter()
        .map(|c| (*c).to_owned())
        .collect(),
        rows,
    }
}
