use mes_core::config::ConfigSource;
use mes_core::domain::{
    CreateMachine, DeleteMachine, Machine, MachineInput, SetMachineStatus, UpdateMachine,
};
use mes_core::{DatabaseTarget, Registry};
use sqlx::PgPool;
use uuid::Uuid;

pub fn registry(pool: PgPool) -> Registry {
    let target = DatabaseTarget {
        display: "test".into(),
        source: ConfigSource::Environment,
    };
    Registry::from_pool(pool, target)
}

pub fn input(name: &str) -> MachineInput {
    MachineInput {
        machine_name: name.into(),
        machine_type: "Milling Machine".into(),
        operational_status: "Running".into(),
        efficiency: Some(85.5),
        last_maintenance: "2024-01-10T08:00:00Z".into(),
    }
}

pub fn create_write(machine: MachineInput) -> CreateMachine {
    CreateMachine {
        write_id: Uuid::new_v4(),
        uid: Uuid::new_v4(),
        machine,
    }
}

pub fn update_write(current: &Machine, machine: MachineInput) -> UpdateMachine {
    UpdateMachine {
        write_id: Uuid::new_v4(),
        uid: current.uid,
        expected_version: current.version,
        machine,
    }
}

pub fn status_write(uid: Uuid, status: &str) -> SetMachineStatus {
    SetMachineStatus {
        write_id: Uuid::new_v4(),
        uid,
        status: status.into(),
    }
}

pub fn delete_write(current: &Machine) -> DeleteMachine {
    DeleteMachine {
        write_id: Uuid::new_v4(),
        uid: current.uid,
        expected_version: current.version,
    }
}

pub async fn create(registry: &Registry, name: &str) -> Machine {
    registry
        .create_machine(&create_write(input(name)))
        .await
        .expect("create machine")
}

/// Every column of every machine and every recorded write, in a fixed order: compared before and
/// after a refused operation to prove that nothing changed.
pub async fn snapshot(pool: &PgPool) -> String {
    let machines: Vec<String> =
        sqlx::query_scalar("SELECT row_to_json(m)::text FROM machines m ORDER BY id")
            .fetch_all(pool)
            .await
            .expect("snapshot machines");
    let writes: i64 = sqlx::query_scalar("SELECT count(*) FROM applied_writes")
        .fetch_one(pool)
        .await
        .expect("snapshot writes");
    format!("{machines:?} writes={writes}")
}
