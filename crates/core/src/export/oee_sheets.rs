//! The planner's OEE tables as sheets: OEE per type and per machine, per day, and downtime by
//! reason and by loss category. Hours and percentages as numbers, the sums beside them, so a
//! spreadsheet can add them up again (never average the percentages).

use super::{Cell, Sheet};
use crate::domain::{DowntimePareto, LossCategory, OeeDay, OeeFigures, OeeGroup, OeeTotals};

/// Rounded to the thousandth of an hour; a sum of nothing (-0.0 in Rust) shows as 0.
fn hours(seconds: f64) -> Cell {
    Cell::Number((seconds / 3600.0 * 1000.0).round() / 1000.0 + 0.0)
}

fn percent(fraction: Option<f64>) -> Cell {
    fraction.map_or(Cell::Empty, |f| {
        Cell::Number((f * 10_000.0).round() / 100.0 + 0.0)
    })
}

const FIGURE_COLUMNS: [&str; 14] = [
    "shifts",
    "oee_percent",
    "availability_percent",
    "performance_percent",
    "quality_percent",
    "planned_busy_h",
    "breakdown_h",
    "setup_adjustment_h",
    "small_stop_h",
    "fully_productive_h",
    "lost_h",
    "produced",
    "startup_rejects",
    "production_rejects",
];

fn figure_cells(totals: &OeeTotals, figures: &OeeFigures) -> Vec<Cell> {
    let fully = totals.ideal_good_s();
    vec![
        Cell::Integer(i64::try_from(totals.shifts).unwrap_or(i64::MAX)),
        percent(figures.oee),
        percent(figures.availability),
        percent(figures.performance),
        percent(figures.quality),
        hours(totals.planned_busy_s),
        hours(totals.breakdown_s),
        hours(totals.setup_s),
        hours(totals.small_stop_s),
        hours(fully),
        hours((totals.planned_busy_s - fully).max(0.0)),
        Cell::Number(totals.produced),
        Cell::Number(totals.startup_rejects),
        Cell::Number(totals.production_rejects),
    ]
}

fn columns(first: &[&str]) -> Vec<String> {
    first
        .iter()
        .chain(FIGURE_COLUMNS.iter())
        .map(|c| (*c).to_owned())
        .collect()
}

fn category_name(category: LossCategory) -> &'static str {
    category.as_str()
}

/// The sheets of an OEE export: per type, per machine, per day (of `focus`), and downtime.
pub fn oee_sheets(
    focus: &str,
    by_type: &[OeeGroup],
    by_machine: &[OeeGroup],
    days: &[OeeDay],
    pareto: &DowntimePareto,
) -> Vec<Sheet> {
    let group_rows = |groups: &[OeeGroup], with_key: bool| -> Vec<Vec<Cell>> {
        groups
            .iter()
            .map(|g| {
                let mut row = vec![Cell::Text(g.label.clone())];
                if with_key {
                    row.push(Cell::Text(g.key.clone()));
                }
                row.extend(figure_cells(&g.totals, &g.figures));
                row
            })
            .collect()
    };
    let total: f64 = pareto.reasons.iter().map(|r| r.seconds).sum();
    let share = |seconds: f64| {
        if total > 0.0 {
            Cell::Number((seconds / total * 10_000.0).round() / 100.0)
        } else {
            Cell::Empty
        }
    };
    vec![
        Sheet {
            name: "OEE by type".into(),
            columns: columns(&["machine_type"]),
            rows: group_rows(by_type, false),
        },
        Sheet {
            name: "OEE by machine".into(),
            columns: columns(&["machine_name", "uid"]),
            rows: group_rows(by_machine, true),
        },
        Sheet {
            name: "OEE per day".into(),
            columns: columns(&["day_utc", "of"]),
            rows: days
                .iter()
                .map(|d| {
                    let mut row = vec![Cell::Text(d.day.to_string()), Cell::Text(focus.into())];
                    row.extend(figure_cells(&d.totals, &d.figures));
                    row
                })
                .collect(),
        },
        Sheet {
            name: "Downtime by reason".into(),
            columns: [
                "reason",
                "loss",
                "events",
                "downtime_h",
                "share_percent",
                "of",
            ]
            .iter()
            .map(|c| (*c).to_owned())
            .collect(),
            rows: pareto
                .reasons
                .iter()
                .map(|r| {
                    vec![
                        Cell::Text(r.name.clone()),
                        Cell::Text(category_name(r.category).into()),
                        Cell::Integer(r.events),
                        hours(r.seconds),
                        share(r.seconds),
                        Cell::Text(focus.into()),
                    ]
                })
                .collect(),
        },
        Sheet {
            name: "Downtime by loss".into(),
            columns: ["loss", "events", "downtime_h", "share_percent", "of"]
                .iter()
                .map(|c| (*c).to_owned())
                .collect(),
            rows: pareto
                .categories
                .iter()
                .map(|c| {
                    vec![
                        Cell::Text(category_name(c.category).into()),
                        Cell::Integer(c.events),
                        hours(c.seconds),
                        share(c.seconds),
                        Cell::Text(focus.into()),
                    ]
                })
                .collect(),
        },
    ]
}
