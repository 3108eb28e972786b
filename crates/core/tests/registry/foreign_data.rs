//! Values another tool stored: no value the table accepts may crash, hang or silence the app.
//! Rows the app cannot represent are shown marked with the reason; from the migration on, the
//! schema refuses such values; the administrator's report names the rows; once they are fixed,
//! the rule is validated for every row.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mes_core::domain::{ListQuery, SortColumn, SortDirection};
use mes_core::sync::hooks::{self, Hook};
use mes_core::sync::{Connection, Outbox, SyncStatus, SyncedRegistry};
use mes_core::{schema, MIGRATOR};
use sqlx::PgPool;

use crate::adoption::TUTORIAL_TABLE;
use crate::support::*;
use crate::sync::outbox_path;

/// One row per value class a `timestamp` column accepts that is no maintenance date.
const ODD_INSTANTS: [(&str, &str); 6] = [
    ("INF", "infinity"),
    ("NEG-INF", "-infinity"),
    ("YEAR-0", "0001-01-01 00:00:00 BC"),
    ("YEAR-1", "0001-01-01 00:00:00"),
    ("YEAR-262144", "262144-01-01 00:00:00"),
    ("YEAR-294276", "294276-12-31 23:59:59"),
];

async fn sane_checks_validated(pool: &PgPool) -> Vec<bool> {
    sqlx::query_scalar(
        "SELECT convalidated FROM pg_constraint
         WHERE conrelid = 'machines'::regclass AND conname LIKE 'machines_%_sane' ORDER BY conname",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrations = false)]
async fn odd_values_are_shown_marked_refused_from_now_on_and_reported(pool: PgPool) {
    sqlx::query(TUTORIAL_TABLE).execute(&pool).await.unwrap();
    sqlx::query("INSERT INTO machines (machine_name, machine_type, operational_status, efficiency, last_maintenance) VALUES ('GOOD', 'Press', 'Idle', 50, '2024-01-10 08:00:00')")
        .execute(&pool)
        .await
        .unwrap();
    for (name, instant) in ODD_INSTANTS {
        sqlx::query("INSERT INTO machines (machine_name, machine_type, operational_status, efficiency, last_maintenance) VALUES ($1, 'Press', 'Idle', 50, $2::timestamp)")
            .bind(name)
            .bind(instant)
            .execute(&pool)
            .await
            .unwrap();
    }
    let registry = registry(pool.clone());
    schema::migrate(registry.db()).await.unwrap();
    assert_eq!(sane_checks_validated(&pool).await, [true, false, true]);

    // Every sort and direction answers with all rows; the odd ones are marked, not dropped.
    for sort in SortColumn::ALL {
        for direction in [SortDirection::Asc, SortDirection::Desc] {
            let query = ListQuery {
                sort,
                direction,
                ..ListQuery::default()
            };
            let page = registry.list_machines(&query).await.unwrap();
            assert_eq!(page.total, 7);
            assert_eq!(page.machines.len(), 7);
        }
    }
    let page = registry.list_machines(&ListQuery::default()).await.unwrap();
    for machine in &page.machines {
        if machine.machine_name == "GOOD" {
            assert!(machine.problems.is_empty());
            assert!(machine.last_maintenance.is_some());
        } else {
            assert_eq!(machine.last_maintenance, None, "{}", machine.machine_name);
            assert_eq!(machine.problems.len(), 1, "{}", machine.machine_name);
            assert!(
                machine.problems[0].contains("not a date"),
                "{:?}",
                machine.problems
            );
        }
    }
    let inf = page
        .machines
        .iter()
        .find(|m| m.machine_name == "INF")
        .unwrap();
    assert!(inf.problems[0].contains("infinity"));
    assert_eq!(
        registry
            .get_machine(inf.uid)
            .await
            .unwrap()
            .last_maintenance,
        None
    );
    registry.status_counts(&ListQuery::default()).await.unwrap();
    registry.machine_types().await.unwrap();

    // The administrator's report names them (and reading it changes nothing).
    let state = schema::inspect(registry.db()).await.unwrap();
    assert_eq!(state.rule_breaks.len(), 6, "{:?}", state.rule_breaks);
    assert!(state
        .rule_breaks
        .iter()
        .any(|r| r.contains("'INF'") && r.contains("infinity")));

    // From now on the schema refuses such values, from any tool.
    for (sql, what) in [
        ("INSERT INTO machines (machine_name, machine_type, operational_status, efficiency, last_maintenance) VALUES ('NEW-INF', 'Press', 'Idle', 50, 'infinity')", "insert"),
        ("UPDATE machines SET last_maintenance = '-infinity' WHERE machine_name = 'GOOD'", "update"),
        ("INSERT INTO machines (machine_name, machine_type, operational_status, efficiency, last_maintenance) VALUES ('NEW-NAN', 'Press', 'Idle', 'NaN', now())", "NaN efficiency"),
        ("INSERT INTO machines (machine_name, machine_type, operational_status, efficiency, last_maintenance, updated_at) VALUES ('NEW-UPD', 'Press', 'Idle', 5, now(), 'infinity')", "updated_at"),
    ] {
        let error = sqlx::query(sql).execute(&pool).await.unwrap_err();
        let code = error.as_database_error().and_then(|e| e.code()).unwrap_or_default();
        assert_eq!(code, "23514", "{what}: {error}");
    }

    // The offline copy keeps marked rows too (a JSON round trip without a date).
    let synced = SyncedRegistry::new(
        Arc::new(registry),
        Outbox::open(&outbox_path()).await.unwrap(),
    );
    synced.refresh_fleet_copy().await.unwrap();
    let copy = synced.outbox().fleet_copy().await.unwrap().unwrap();
    assert_eq!(copy.machines.len(), 7);
    assert_eq!(
        copy.machines
            .iter()
            .filter(|m| !m.problems.is_empty())
            .count(),
        6
    );

    // An operator sets a real date through the app; an administrator fixes the rest with SQL;
    // the next migration validates the rule for every row.
    let mut fixed = input("INF");
    fixed.machine_type = "Press".into();
    synced
        .update_machine(update_write(inf, fixed))
        .await
        .unwrap();
    sqlx::query("UPDATE machines SET last_maintenance = '2024-01-01' WHERE last_maintenance < '1900-01-01' OR last_maintenance >= '2200-01-01'")
        .execute(&pool)
        .await
        .unwrap();
    schema::migrate(synced.registry().db()).await.unwrap();
    assert_eq!(sane_checks_validated(&pool).await, [true, true, true]);
    assert!(schema::inspect(synced.registry().db())
        .await
        .unwrap()
        .rule_breaks
        .is_empty());
}

#[sqlx::test(migrations = false)]
async fn a_migrated_database_refuses_odd_instants_and_nan(pool: PgPool) {
    MIGRATOR.run(&pool).await.unwrap();
    assert_eq!(sane_checks_validated(&pool).await, [true, true, true]);
    for value in ["infinity", "-infinity", "0001-01-01 BC", "262144-01-01"] {
        let error = sqlx::query("INSERT INTO machines (machine_name, machine_type, operational_status, efficiency, last_maintenance) VALUES ('X', 'Press', 'Idle', 5, $1::timestamptz)")
            .bind(value)
            .execute(&pool)
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("machines_last_maintenance_sane"),
            "{value}: {error}"
        );
    }
    for value in ["NaN", "Infinity", "-Infinity"] {
        let error = sqlx::query("INSERT INTO machines (machine_name, machine_type, operational_status, efficiency, last_maintenance) VALUES ('X', 'Press', 'Idle', $1::float8, now())")
            .bind(value)
            .execute(&pool)
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("machines_efficiency_valid"),
            "{value}: {error}"
        );
    }
}

/// A panic in the sync worker is logged, shown (the status carries it) and the worker goes on.
#[sqlx::test(migrations = "../../migrations")]
async fn a_panicking_sync_worker_is_shown_and_restarted(pool: PgPool) {
    let synced = Arc::new(SyncedRegistry::new(
        Arc::new(registry(pool.clone())),
        Outbox::open(&outbox_path()).await.unwrap(),
    ));
    synced.outbox().hooks().arm(hooks::WORKER_TICK, Hook::Panic);
    let seen: Arc<Mutex<Vec<SyncStatus>>> = Arc::default();
    let worker = tokio::spawn(synced.clone().run_supervised(Arc::new({
        let seen = seen.clone();
        move |status: &SyncStatus| {
            if let Ok(mut seen) = seen.lock() {
                seen.push(status.clone());
            }
        }
    })));
    eventually(10, "the fault is reported", || async {
        synced.status().fault.is_some()
    })
    .await;
    assert!(synced
        .status()
        .fault
        .unwrap_or_default()
        .contains("restarted"));
    // The restarted worker works: a queued write is sent.
    let machine = create(synced.registry(), "CNC-001").await;
    synced
        .outbox()
        .enqueue(crate::sync::queued_status(machine.uid, "Down"))
        .await
        .unwrap();
    eventually(10, "the restarted worker syncs", || async {
        let s = synced.status();
        s.connection == Connection::Online && s.pending == 0
    })
    .await;
    assert!(
        seen.lock().unwrap().iter().any(|s| s.fault.is_some()),
        "the window was told"
    );
    worker.abort();
    let _ = tokio::time::timeout(Duration::from_secs(1), worker).await;
}
