use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{
    CreateMachine, DeleteMachine, PlanMaintenance, RecordMaintenance, RecordShift,
    SetMachineStatus, UpdateMachine,
};

/// A write waiting in the outbox: exactly what the online command would have sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "kind", content = "write", rename_all = "snake_case")]
pub enum QueuedWrite {
    Create(CreateMachine),
    Update(UpdateMachine),
    SetStatus(SetMachineStatus),
    Delete(DeleteMachine),
    PlanMaintenance(PlanMaintenance),
    RecordMaintenance(RecordMaintenance),
    RecordShift(RecordShift),
}

impl QueuedWrite {
    pub fn write_id(&self) -> Uuid {
        match self {
            Self::Create(w) => w.write_id,
            Self::Update(w) => w.write_id,
            Self::SetStatus(w) => w.write_id,
            Self::Delete(w) => w.write_id,
            Self::PlanMaintenance(w) => w.write_id,
            Self::RecordMaintenance(w) => w.write_id,
            Self::RecordShift(w) => w.write_id,
        }
    }

    pub fn machine_uid(&self) -> Uuid {
        match self {
            Self::Create(w) => w.uid,
            Self::Update(w) => w.uid,
            Self::SetStatus(w) => w.uid,
            Self::Delete(w) => w.uid,
            Self::PlanMaintenance(w) => w.uid,
            Self::RecordMaintenance(w) => w.uid,
            // The machine's, not the record's own id: the outbox orders writes per machine.
            Self::RecordShift(w) => w.shift.machine_uid,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Create(_) => "create",
            Self::Update(_) => "update",
            Self::SetStatus(_) => "set_status",
            Self::Delete(_) => "delete",
            Self::PlanMaintenance(_) => "plan_maintenance",
            Self::RecordMaintenance(_) => "record_maintenance",
            Self::RecordShift(_) => "record_shift",
        }
    }
}
