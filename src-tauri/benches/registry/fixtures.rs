//! A fresh benchmark database on the configured server, and machines to work on.

use mes_core::config::ConfigSource;
use mes_core::domain::{CreateMachine, MachineInput};
use mes_core::{DatabaseConfig, Registry, MIGRATOR};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use uuid::Uuid;

pub const BENCH_DATABASE: &str = "mes_bench";

/// Recreates `mes_bench` next to the database in `DATABASE_URL` and returns a registry on it.
pub async fn fresh_registry(admin_url: &str) -> Registry {
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(admin_url)
        .await
        .expect("connect to DATABASE_URL");
    sqlx::query(&format!(
        "DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)"
    ))
    .execute(&admin)
    .await
    .expect("drop bench database");
    sqlx::query(&format!("CREATE DATABASE {BENCH_DATABASE}"))
        .execute(&admin)
        .await
        .expect("create bench database");
    admin.close().await;
    let url = replace_database(admin_url, BENCH_DATABASE);
    let config = DatabaseConfig::from_url(&url, ConfigSource::Environment, "DATABASE_URL")
        .expect("bench database URL");
    let registry = Registry::connect_lazy(&config);
    MIGRATOR
        .run(registry.pool())
        .await
        .expect("migrate bench database");
    registry
}

/// The benchmark database's URL on the server named by `admin_url`.
pub fn bench_url(admin_url: &str) -> String {
    replace_database(admin_url, BENCH_DATABASE)
}

fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, ""), |(b, q)| (b, q));
    let base = base.rsplit_once('/').map_or(base, |(prefix, _)| prefix);
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    format!("{base}/{database}{query}")
}

pub fn input(name: &str, i: usize) -> MachineInput {
    MachineInput {
        machine_name: name.to_owned(),
        machine_type: [
            "Milling Machine",
            "Robot Arm",
            "Assembly Station",
            "Lathe Machine",
        ][i % 4]
            .into(),
        operational_status: ["Running", "Idle", "Maintenance", "Down"][i % 4].into(),
        efficiency: Some((i % 1000) as f64 / 10.0),
        last_maintenance: "2024-01-10T08:00:00Z".into(),
    }
}

pub fn create_write(name: &str, i: usize) -> CreateMachine {
    CreateMachine {
        write_id: Uuid::new_v4(),
        uid: Uuid::new_v4(),
        machine: input(name, i),
    }
}

/// Adds `count` machines in one statement (fast set-up, not a measurement; each row still goes
/// through the history's triggers, so it may outlast the pool's statement timeout).
pub async fn bulk_insert(pool: &PgPool, count: i64, prefix: &str) {
    let mut tx = pool.begin().await.expect("transaction");
    sqlx::query("SET LOCAL statement_timeout = 0")
        .execute(&mut *tx)
        .await
        .expect("no timeout");
    sqlx::query(
        "INSERT INTO machines (machine_name, machine_type, operational_status, efficiency, last_maintenance)
         SELECT $2 || lpad(g::text, 6, '0'),
                (ARRAY['Milling Machine','Robot Arm','Assembly Station','Lathe Machine','Press','Welder'])[1 + g % 6],
                (ARRAY['Running','Idle','Maintenance','Down'])[1 + (g * 7) % 4],
                ((g * 37) % 1001) / 10.0,
                timestamptz '2020-01-01' + ((g * 7919) % 2000) * interval '1 day' + (g % 1440) * interval '1 minute'
         FROM generate_series(1, $1) AS g",
    )
    .bind(count)
    .bind(prefix)
    .execute(&mut *tx)
    .await
    .expect("bulk insert");
    tx.commit().await.expect("commit");
    sqlx::query("ANALYZE machines")
        .execute(pool)
        .await
        .expect("analyze");
}
