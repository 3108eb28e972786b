use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::{Machine, OperationalStatus};
use crate::error::RegistryError;

/// The columns every machine query selects, in `MachineRow`'s order.
pub(crate) const MACHINE_COLUMNS: &str =
    "id, uid, machine_name, machine_type, operational_status, \
     efficiency, last_maintenance, version, created_at, updated_at";

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct MachineRow {
    id: i32,
    uid: Uuid,
    machine_name: String,
    machine_type: String,
    operational_status: String,
    efficiency: f64,
    last_maintenance: DateTime<Utc>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<MachineRow> for Machine {
    type Error = RegistryError;

    fn try_from(row: MachineRow) -> Result<Self, Self::Error> {
        // The status CHECK constraint makes this infallible in practice; if it ever fails, the
        // schema was changed behind our back and the row must not be shown as something it is not.
        let operational_status =
            OperationalStatus::parse(&row.operational_status).map_err(|_| {
                RegistryError::Internal(format!(
                    "machine {} has status {:?} outside the schema's rule",
                    row.id, row.operational_status
                ))
            })?;
        Ok(Machine {
            id: row.id,
            uid: row.uid,
            machine_name: row.machine_name,
            machine_type: row.machine_type,
            operational_status,
            efficiency: row.efficiency,
            last_maintenance: row.last_maintenance,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

pub(crate) fn into_machines(rows: Vec<MachineRow>) -> Result<Vec<Machine>, RegistryError> {
    rows.into_iter().map(Machine::try_from).collect()
}
