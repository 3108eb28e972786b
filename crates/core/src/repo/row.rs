//! Reading a machine row defensively. Another tool can store values the app cannot show as what
//! they claim to be (a `last_maintenance` of 'infinity', a year 262143, …); sqlx would panic
//! decoding some of them into a date. So every instant and the efficiency are read through a guard
//! in SQL: a value outside the sane range arrives as NULL, with its raw text beside it, and the row
//! is shown marked with the reason instead of failing the page.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::{Machine, OperationalStatus};
use crate::error::RegistryError;

/// The range of instants the schema's CHECKs allow (`machines_*_sane`), as SQL literals.
const SANE_FROM: &str = "'1900-01-01 00:00:00+00'";
const SANE_UNTIL: &str = "'2200-01-01 00:00:00+00'";

/// The columns every machine query selects, in `MachineRow`'s order. Usable on `machines` and on a
/// CTE returning `machines.*`. The guarded columns get names of their own, so that an `ORDER BY
/// last_maintenance` still means the table's column (and its index), not the guarded copy.
pub(crate) const MACHINE_COLUMNS: &str = concat!(
    "id, uid, machine_name, machine_type, operational_status, ",
    "CASE WHEN efficiency >= 0 AND efficiency <= 100 THEN efficiency END AS efficiency_value, ",
    "CASE WHEN NOT (efficiency >= 0 AND efficiency <= 100) THEN efficiency::text END AS efficiency_raw, ",
    "CASE WHEN last_maintenance >= '1900-01-01 00:00:00+00' AND last_maintenance < '2200-01-01 00:00:00+00' THEN last_maintenance END AS last_maintenance_value, ",
    "CASE WHEN NOT (last_maintenance >= '1900-01-01 00:00:00+00' AND last_maintenance < '2200-01-01 00:00:00+00') THEN last_maintenance::text END AS last_maintenance_raw, ",
    "version, ",
    "CASE WHEN created_at >= '1900-01-01 00:00:00+00' AND created_at < '2200-01-01 00:00:00+00' THEN created_at END AS created_at_value, ",
    "CASE WHEN updated_at >= '1900-01-01 00:00:00+00' AND updated_at < '2200-01-01 00:00:00+00' THEN updated_at END AS updated_at_value, ",
    "efficiency_shift"
);

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct MachineRow {
    id: i32,
    uid: Uuid,
    machine_name: String,
    machine_type: String,
    operational_status: String,
    efficiency_value: Option<f64>,
    efficiency_raw: Option<String>,
    last_maintenance_value: Option<DateTime<Utc>>,
    last_maintenance_raw: Option<String>,
    version: i64,
    created_at_value: Option<DateTime<Utc>>,
    updated_at_value: Option<DateTime<Utc>>,
    efficiency_shift: Option<Uuid>,
}

impl TryFrom<MachineRow> for Machine {
    type Error = RegistryError;

    fn try_from(row: MachineRow) -> Result<Self, Self::Error> {
        let operational_status = stored_status(row.id, &row.operational_status)?;
        let mut problems = Vec::new();
        if let Some(raw) = &row.last_maintenance_raw {
            problems.push(format!(
                "Last maintenance is stored as “{raw}”, which is not a date from 1900 to 2199 (written by another tool); set a real date"
            ));
        }
        if let Some(raw) = &row.efficiency_raw {
            problems.push(format!(
                "Efficiency is stored as “{raw}”, which is not a number from 0 to 100 (written by another tool)"
            ));
        }
        if row.created_at_value.is_none() || row.updated_at_value.is_none() {
            problems.push(
                "Its creation or update time is stored outside 1900–2199 (written by another tool)"
                    .into(),
            );
        }
        Ok(Machine {
            id: row.id,
            uid: row.uid,
            machine_name: row.machine_name,
            machine_type: row.machine_type,
            operational_status,
            efficiency: row.efficiency_value,
            efficiency_shift: row.efficiency_shift,
            last_maintenance: row.last_maintenance_value,
            version: row.version,
            created_at: row.created_at_value,
            updated_at: row.updated_at_value,
            problems,
        })
    }
}

/// A status as stored. The status CHECK constraint makes this infallible in practice; if it ever
/// fails, the schema was changed behind our back and the row must not be shown as something it
/// is not.
pub(crate) fn stored_status(id: i32, raw: &str) -> Result<OperationalStatus, RegistryError> {
    OperationalStatus::parse(raw).map_err(|_| {
        RegistryError::Internal(format!(
            "machine {id} has status {raw:?} outside the schema's rule"
        ))
    })
}

pub(crate) fn into_machines(rows: Vec<MachineRow>) -> Result<Vec<Machine>, RegistryError> {
    rows.into_iter().map(Machine::try_from).collect()
}

/// The condition a row breaks when one of its instants is outside the sane range (the report of
/// `repo::rule_breaks`).
pub(crate) fn insane_instants() -> String {
    ["last_maintenance", "created_at", "updated_at"]
        .iter()
        .map(|c| format!("NOT ({c} >= {SANE_FROM} AND {c} < {SANE_UNTIL})"))
        .collect::<Vec<_>>()
        .join(" OR ")
}
