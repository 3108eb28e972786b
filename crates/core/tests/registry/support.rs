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
        insecure: false,
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
        efficiency_seen: None,
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

/// Every column of every machine, every recorded write and the maintenance plan, in a fixed order: compared before and
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
    let plan: Vec<String> = sqlx::query_scalar(
        "SELECT row_to_json(p)::text FROM maintenance_plans p ORDER BY machine_uid",
    )
    .fetch_all(pool)
    .await
    .expect("snapshot plans");
    let plan_by_type: Vec<String> = sqlx::query_scalar(
        "SELECT row_to_json(t)::text FROM maintenance_type_intervals t ORDER BY machine_type",
    )
    .fetch_all(pool)
    .await
    .expect("snapshot type intervals");
    let log: i64 = sqlx::query_scalar("SELECT count(*) FROM maintenance_log")
        .fetch_one(pool)
        .await
        .expect("snapshot log");
    format!("{machines:?} writes={writes} plan={plan:?} {plan_by_type:?} log={log}")
}

/// A registry that reaches the test's database through a proxy that can cut or freeze the
/// network, with the given deadline per call.
pub async fn behind_proxy(
    pool: &PgPool,
    deadline: std::time::Duration,
) -> (crate::proxy::Proxy, std::sync::Arc<Registry>) {
    let options = (*pool.connect_options()).clone();
    let target: std::net::SocketAddr = format!("127.0.0.1:{}", options.get_port()).parse().unwrap();
    let proxy = crate::proxy::Proxy::start(target).await;
    let options = options.host("127.0.0.1").port(proxy.port);
    let config = mes_core::DatabaseConfig::with_options(options, ConfigSource::Environment)
        .with_deadline(deadline);
    (proxy, std::sync::Arc::new(Registry::connect_lazy(&config)))
}

/// Waits (up to `seconds`) until `check` holds, polling every 20 ms.
pub async fn eventually<F, Fut>(seconds: u64, what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while !check().await {
        assert!(
            std::time::Instant::now() < deadline,
            "not within {seconds} s: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// How many times a write id is recorded on the server (0 or 1: it is the key).
pub async fn recorded(pool: &PgPool, write_id: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM applied_writes WHERE write_id = $1")
        .bind(write_id)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Runs `work` while another session holds a lock (`lock_sql`, inside a transaction), waits until
/// `waiters` sessions of this database are blocked on that lock, then releases it: the blocked
/// operations are certain to have overlapped.
pub async fn overlapping<T, F>(pool: &PgPool, lock_sql: &str, waiters: i64, work: F) -> T
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let mut holder = pool.begin().await.unwrap();
    sqlx::query(lock_sql).execute(&mut *holder).await.unwrap();
    let running = tokio::spawn(work);
    eventually(10, "the operations wait on the held lock", || async {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        waiting >= waiters
    })
    .await;
    holder.rollback().await.unwrap();
    running.await.unwrap()
}
