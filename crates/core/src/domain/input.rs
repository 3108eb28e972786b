use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{parse_utc_instant, Efficiency, MachineName, MachineType, OperationalStatus};
use crate::error::FieldError;

/// A machine's editable fields exactly as a form or another client sends them: plain strings and
/// an optional number, so that every kind of bad input reaches validation and gets a per-field
/// message (a typed enum or a required f64 would fail earlier, in deserialisation, with no field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct MachineInput {
    pub machine_name: String,
    pub machine_type: String,
    pub operational_status: String,
    /// Percent 0–100; `null` (an empty field, or NaN from JavaScript) is refused.
    pub efficiency: Option<f64>,
    /// UTC, RFC 3339, ending in `Z`.
    pub last_maintenance: String,
}

/// A machine's fields after validation: only this reaches the repository.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidMachine {
    pub name: MachineName,
    pub machine_type: MachineType,
    pub status: OperationalStatus,
    pub efficiency: Efficiency,
    pub last_maintenance: DateTime<Utc>,
}

impl MachineInput {
    /// Checks every field and reports all problems at once, each on its field.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<ValidMachine, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = collect(
            &mut errors,
            "machine_name",
            MachineName::parse(&self.machine_name),
        );
        let machine_type = collect(
            &mut errors,
            "machine_type",
            MachineType::parse(&self.machine_type),
        );
        let status = collect(
            &mut errors,
            "operational_status",
            OperationalStatus::parse(&self.operational_status),
        );
        let efficiency = collect(
            &mut errors,
            "efficiency",
            Efficiency::parse(self.efficiency),
        );
        let last_maintenance = collect(
            &mut errors,
            "last_maintenance",
            parse_utc_instant(&self.last_maintenance, now),
        );
        match (name, machine_type, status, efficiency, last_maintenance) {
            (Some(name), Some(machine_type), Some(status), Some(efficiency), Some(last)) => {
                Ok(ValidMachine {
                    name,
                    machine_type,
                    status,
                    efficiency,
                    last_maintenance: last,
                })
            }
            _ => Err(errors),
        }
    }
}

pub(crate) fn collect<T>(
    errors: &mut Vec<FieldError>,
    field: &str,
    result: Result<T, String>,
) -> Option<T> {
    result
        .map_err(|message| errors.push(FieldError::new(field, message)))
        .ok()
}

// Writes are plain data carrying a client-generated `write_id`: they can be queued while the
// database is away and replayed later; the server records each `write_id` with the change, so a
// replayed write is recognised and never applied twice.

/// Create a machine with a client-chosen `uid`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct CreateMachine {
    pub write_id: Uuid,
    pub uid: Uuid,
    pub machine: MachineInput,
}

/// Replace all fields of a machine (the tutorial's PUT), if it is still at `expected_version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct UpdateMachine {
    pub write_id: Uuid,
    pub uid: Uuid,
    pub expected_version: i64,
    /// The efficiency the form showed (the operator's starting point). An edit that passes over
    /// changes since its version (its own PC's) and left the efficiency as shown keeps the
    /// current one: a shift entered before it moved the efficiency on, and a rename queued
    /// after it must not put back the number the form showed. `null`: the edit's efficiency is
    /// written as it is (older PCs, other clients).
    #[serde(default)]
    pub efficiency_seen: Option<f64>,
    pub machine: MachineInput,
}

/// Change only the status: the operators' most frequent action. It carries no version: a status
/// change does not conflict with someone else's edit of other fields (the last status wins).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SetMachineStatus {
    pub write_id: Uuid,
    pub uid: Uuid,
    pub status: String,
}

/// Delete a machine, if it is still at `expected_version` (the one the operator confirmed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct DeleteMachine {
    pub write_id: Uuid,
    pub uid: Uuid,
    pub expected_version: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_every_bad_field() {
        let input = MachineInput {
            machine_name: " ".into(),
            machine_type: "Lathe".into(),
            operational_status: "Exploded".into(),
            efficiency: Some(f64::NAN),
            last_maintenance: "2024-01-10T08:00:00+01:00".into(),
        };
        let errors = input.validate(Utc::now()).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "machine_name",
                "operational_status",
                "efficiency",
                "last_maintenance"
            ]
        );
    }
}
