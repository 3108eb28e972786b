//! Adopting a plant's existing tutorial table: every row kept, the other tools' plain SQL on the
//! six original columns still works, and rows that break the rules stop the migration with a
//! report instead of being changed.

use mes_core::domain::{ListQuery, OperationalStatus};
use mes_core::{schema, RegistryError, MIGRATOR};
use sqlx::PgPool;

use crate::support::*;

pub const TUTORIAL_TABLE: &str =
    "CREATE TABLE machines (id SERIAL PRIMARY KEY, machine_name VARCHAR UNIQUE NOT NULL,
    machine_type VARCHAR NOT NULL, operational_status VARCHAR NOT NULL, efficiency FLOAT NOT NULL,
    last_maintenance TIMESTAMP NOT NULL)";

const TUTORIAL_ROWS: &str = "INSERT INTO machines (machine_name, machine_type, operational_status, efficiency, last_maintenance) VALUES
    ('CNC-001', 'Milling Machine', 'Running', 85.5, '2024-01-10 08:00:00'),
    ('ROB-002', 'Robot Arm', 'Idle', 92.0, '2024-01-09 14:30:00'),
    ('ASM-003', 'Assembly Station', 'Maintenance', 78.3, '2024-01-11 10:15:00'),
    ('CNC-004', 'Lathe Machine', 'Down', 0.0, '2024-01-08 16:45:00')";

async fn total(registry: &mes_core::Registry) -> i64 {
    registry
        .list_machines(&ListQuery::default())
        .await
        .unwrap()
        .total
}

async fn tutorial_database(pool: &PgPool) {
    sqlx::query(TUTORIAL_TABLE).execute(pool).await.unwrap();
    sqlx::query(TUTORIAL_ROWS).execute(pool).await.unwrap();
}

#[sqlx::test(migrations = false)]
async fn adopting_keeps_every_row_and_the_tools_keep_working(pool: PgPool) {
    tutorial_database(&pool).await;
    MIGRATOR.run(&pool).await.unwrap();
    let registry = registry(pool.clone());

    let query = ListQuery {
        sort: mes_core::domain::SortColumn::Id,
        ..ListQuery::default()
    };
    let page = registry.list_machines(&query).await.unwrap();
    let rows: Vec<(i32, &str, OperationalStatus, f64, String, i64)> = page
        .machines
        .iter()
        .map(|m| {
            (
                m.id,
                m.machine_name.as_str(),
                m.operational_status,
                m.efficiency.unwrap(),
                m.last_maintenance.unwrap().to_rfc3339(),
                m.version,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                1,
                "CNC-001",
                OperationalStatus::Running,
                85.5,
                "2024-01-10T08:00:00+00:00".into(),
                1
            ),
            (
                2,
                "ROB-002",
                OperationalStatus::Idle,
                92.0,
                "2024-01-09T14:30:00+00:00".into(),
                1
            ),
            (
                3,
                "ASM-003",
                OperationalStatus::Maintenance,
                78.3,
                "2024-01-11T10:15:00+00:00".into(),
                1
            ),
            (
                4,
                "CNC-004",
                OperationalStatus::Down,
                0.0,
                "2024-01-08T16:45:00+00:00".into(),
                1
            ),
        ]
    );
    let uids: std::collections::HashSet<_> = page.machines.iter().map(|m| m.uid).collect();
    assert_eq!(uids.len(), 4, "every adopted row gets its own uid");

    // The other tools' statements, as they wrote them before adoption (session time zone UTC).
    sqlx::query("SET TIME ZONE 'UTC'")
        .execute(&pool)
        .await
        .unwrap();
    let new_id: i32 = sqlx::query_scalar(
        "INSERT INTO machines (machine_name, machine_type, operational_status, efficiency, last_maintenance)
         VALUES ('PRS-005', 'Press', 'Idle', 50.0, '2024-02-01 09:00:00') RETURNING id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(new_id, 5, "the serial goes on where it was");
    let updated = sqlx::query(
        "UPDATE machines SET operational_status = 'Running', efficiency = 60.5,
         last_maintenance = '2024-02-02 10:00:00' WHERE id = 1",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(updated.rows_affected(), 1);
    let selected: (String, String, String, f64) = sqlx::query_as(
        "SELECT machine_name, machine_type, operational_status, efficiency FROM machines WHERE id = 5",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        selected,
        ("PRS-005".into(), "Press".into(), "Idle".into(), 50.0)
    );

    let by_id = |id: i32| page.machines.iter().find(|m| m.id == id).cloned().unwrap();
    let cnc = registry.get_machine(by_id(1).uid).await.unwrap();
    assert_eq!(cnc.version, 2, "another tool's UPDATE advanced the version");
    assert_eq!(cnc.efficiency, Some(60.5));
    assert_eq!(
        cnc.last_maintenance.unwrap().to_rfc3339(),
        "2024-02-02T10:00:00+00:00"
    );

    let deleted = sqlx::query("DELETE FROM machines WHERE id = 4")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(deleted.rows_affected(), 1);
    assert_eq!(total(&registry).await, 4);
}

#[sqlx::test(migrations = false)]
async fn rows_breaking_the_rules_stop_adoption_with_a_report_and_nothing_changes(pool: PgPool) {
    tutorial_database(&pool).await;
    sqlx::query(
        "INSERT INTO machines (machine_name, machine_type, operational_status, efficiency, last_maintenance) VALUES
         ('cnc-001', 'Milling Machine', 'Running', 50, '2024-01-01'),
         ('BAD-1', 'Press', 'Exploded', 50, '2024-01-01'),
         (' BAD-2', '', 'Idle', 'NaN', '2024-01-01'),
         ('BAD-3', 'Press', 'Idle', 250, '2024-01-01')",
    )
    .execute(&pool)
    .await
    .unwrap();
    let before: Vec<String> =
        sqlx::query_scalar("SELECT row_to_json(m)::text FROM machines m ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();

    let registry = registry(pool.clone());
    let report = match schema::migrate(registry.db()).await {
        Err(RegistryError::SchemaRefused(report)) => report,
        other => panic!("expected the adoption to be refused, got {other:?}"),
    };
    for expected in [
        "5 row(s)",
        "id 1 ('CNC-001'): name differs only in letter case",
        "id 5 ('cnc-001'): name differs only in letter case",
        "id 6 ('BAD-1'): status 'Exploded'",
        "id 7 (' BAD-2'): name has leading or trailing spaces; type is empty; efficiency NaN",
        "id 8 ('BAD-3'): efficiency 250",
    ] {
        assert!(
            report.contains(expected),
            "missing {expected:?} in:\n{report}"
        );
    }
    let after: Vec<String> =
        sqlx::query_scalar("SELECT row_to_json(m)::text FROM machines m ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(before, after, "no row and no column changed");

    // The administrator fixes the rows; the next start adopts the table.
    sqlx::query("UPDATE machines SET machine_name = 'CNC-001b' WHERE id = 5")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM machines WHERE id IN (6, 7, 8)")
        .execute(&pool)
        .await
        .unwrap();
    schema::migrate(registry.db()).await.unwrap();
    assert_eq!(total(&registry).await, 5);
}
