//! The tutorial's four sample machines, for a new development database. Loaded by
//! `mes-admin seed` (called by `make run`), never by the migrations: a plant's database must not
//! receive sample rows.

use uuid::Uuid;

use crate::domain::{CreateMachine, MachineInput};
use crate::{Registry, RegistryError};

/// (name, type, status, efficiency, last maintenance in UTC) as the tutorial listed them.
const SAMPLES: [(&str, &str, &str, f64, &str); 4] = [
    (
        "CNC-001",
        "Milling Machine",
        "Running",
        85.5,
        "2024-01-10T08:00:00Z",
    ),
    ("ROB-002", "Robot Arm", "Idle", 92.0, "2024-01-09T14:30:00Z"),
    (
        "ASM-003",
        "Assembly Station",
        "Maintenance",
        78.3,
        "2024-01-11T10:15:00Z",
    ),
    (
        "CNC-004",
        "Lathe Machine",
        "Down",
        0.0,
        "2024-01-08T16:45:00Z",
    ),
];

pub fn sample_inputs() -> Vec<MachineInput> {
    SAMPLES
        .iter()
        .map(
            |(name, machine_type, status, efficiency, last)| MachineInput {
                machine_name: (*name).into(),
                machine_type: (*machine_type).into(),
                operational_status: (*status).into(),
                efficiency: Some(*efficiency),
                last_maintenance: (*last).into(),
            },
        )
        .collect()
}

/// Brings the schema up to date, then loads the samples when the machines table is empty;
/// returns how many were added (0 when the table already had machines, which are never touched).
/// An administrator's step (`mes-admin seed`, `make run`): it migrates.
pub async fn seed_if_empty(registry: &Registry) -> Result<usize, RegistryError> {
    crate::schema::migrate(registry.db()).await?;
    let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM machines")
        .fetch_one(registry.pool())
        .await
        .map_err(crate::error::from_sqlx)?;
    if existing > 0 {
        return Ok(0);
    }
    let inputs = sample_inputs();
    for machine in &inputs {
        let write = CreateMachine {
            write_id: Uuid::new_v4(),
            uid: Uuid::new_v4(),
            machine: machine.clone(),
        };
        registry.create_machine(&write).await?;
    }
    Ok(inputs.len())
}
