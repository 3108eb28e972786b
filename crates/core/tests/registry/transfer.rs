//! Export and import against a real PostgreSQL: the filtered list (all pages, and offline from
//! the fleet copy), the reliability table and a machine's history as CSV and XLSX; a CSV of
//! machines checked (every bad row, nothing changed) and applied all or nothing, and the export
//! read back by the import.

use std::sync::Arc;

use mes_core::domain::{ListQuery, TimeRange};
use mes_core::export::{ExportFormat, ExportRequest};
use mes_core::sync::{Outbox, SyncedRegistry};
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::*;
use crate::sync::{outbox_path, unreachable};

fn folder() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("mes-export-test-{}", Uuid::new_v4()))
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_filtered_list_exports_every_page_online_and_offline(pool: PgPool) {
    let online = Arc::new(registry(pool.clone()));
    for i in 0..620 {
        let mut machine = input(&format!("M-{i:04}"));
        if i % 2 == 0 {
            machine.operational_status = "Down".into();
        }
        online.create_machine(&create_write(machine)).await.unwrap();
    }
    online
        .create_machine(&create_write(input("=cmd|'/c calc'!A1")))
        .await
        .unwrap();
    let path = outbox_path();
    let synced = SyncedRegistry::new(online.clone(), Outbox::open(&path).await.unwrap());
    let down = ListQuery {
        statuses: vec!["Down".into()],
        ..ListQuery::default()
    };
    let dir = folder();
    let written = synced
        .export(
            &ExportRequest::Machines {
                query: down.clone(),
            },
            ExportFormat::Csv,
            &dir,
        )
        .await
        .unwrap();
    assert_eq!(
        written.rows, 310,
        "every page of the filter, not the first 100"
    );
    let text = std::fs::read_to_string(&written.paths[0]).unwrap();
    assert_eq!(text.lines().count(), 311);
    assert!(text
        .starts_with("machine_name,machine_type,operational_status,efficiency,last_maintenance,"));

    // A name another tool made to look like a formula is written inert.
    let all = synced
        .export(
            &ExportRequest::Machines {
                query: ListQuery::default(),
            },
            ExportFormat::Csv,
            &dir,
        )
        .await
        .unwrap();
    let text = std::fs::read_to_string(&all.paths[0]).unwrap();
    assert!(text.contains("\n'=cmd|'/c calc'!A1,"), "defused");

    let xlsx = synced
        .export(
            &ExportRequest::Machines {
                query: down.clone(),
            },
            ExportFormat::Xlsx,
            &dir,
        )
        .await
        .unwrap();
    let bytes = std::fs::read(&xlsx.paths[0]).unwrap();
    assert_eq!(&bytes[..2], b"PK");

    // Offline, from the fleet copy: the same rows.
    synced.refresh_fleet_copy().await.unwrap();
    drop(synced);
    let offline = SyncedRegistry::new(Arc::new(unreachable()), Outbox::open(&path).await.unwrap());
    let again = offline
        .export(
            &ExportRequest::Machines { query: down },
            ExportFormat::Csv,
            &dir,
        )
        .await
        .unwrap();
    assert_eq!(again.rows, 310);
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_file(path);
}

#[sqlx::test(migrations = "../../migrations")]
async fn reliability_and_history_export_as_the_window_shows_them(pool: PgPool) {
    let online = Arc::new(registry(pool.clone()));
    let machine = create(&online, "CNC-001").await;
    online
        .set_machine_status(&status_write(machine.uid, "Down"))
        .await
        .unwrap();
    let synced = SyncedRegistry::new(online.clone(), Outbox::open(&outbox_path()).await.unwrap());
    let dir = folder();
    let now = chrono::Utc::now();
    let range = TimeRange {
        from: now - chrono::TimeDelta::days(7),
        to: now,
    };
    let csv = synced
        .export(
            &ExportRequest::Reliability { range },
            ExportFormat::Csv,
            &dir,
        )
        .await
        .unwrap();
    assert_eq!(csv.paths.len(), 2, "by machine and by type");
    let by_machine = std::fs::read_to_string(&csv.paths[0]).unwrap();
    assert!(by_machine
        .lines()
        .nth(1)
        .unwrap()
        .starts_with("CNC-001,Milling Machine,no,"));
    let xlsx = synced
        .export(
            &ExportRequest::Reliability { range },
            ExportFormat::Xlsx,
            &dir,
        )
        .await
        .unwrap();
    assert_eq!(xlsx.paths.len(), 1, "one workbook, two sheets");

    let history = synced
        .export(
            &ExportRequest::History { uid: machine.uid },
            ExportFormat::Csv,
            &dir,
        )
        .await
        .unwrap();
    assert!(history.paths[0].contains("history-CNC-001"));
    let text = std::fs::read_to_string(&history.paths[0]).unwrap();
    assert!(text.contains(",operational_status,Running,Down"), "{text}");
    let _ = std::fs::remove_dir_all(dir);
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_import_reports_every_bad_row_and_applies_all_or_nothing(pool: PgPool) {
    let registry = registry(pool.clone());
    create(&registry, "CNC-001").await;
    let bad = "machine_name,machine_type,operational_status,efficiency,last_maintenance\n\
               NEW-1,Press,Running,80,2024-01-10T08:00:00Z\n\
               cnc-001,Press,Idle,70,2024-01-10T08:00:00Z\n\
               NEW-2,Press,Broken,70,2024-01-10T08:00:00Z\n\
               new-1,Press,Idle,70,2024-01-10T08:00:00Z\n";
    let before = snapshot(&pool).await;
    for apply in [false, true] {
        let report = registry.import_machines(bad, apply).await.unwrap();
        assert!(!report.applied);
        let found: Vec<(i64, &str)> = report
            .problems
            .iter()
            .map(|p| (p.line, p.field.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (3, "machine_name"),
                (4, "operational_status"),
                (5, "machine_name")
            ]
        );
        assert!(report.problems[2].reason.contains("line 2"));
        assert!(report.problems[0]
            .reason
            .contains("“CNC-001” already exists"));
    }
    assert_eq!(before, snapshot(&pool).await, "nothing changed");

    let good = "Name,Type,Status,Efficiency (%),Last maintenance (UTC)\n\
                NEW-1,Press,Running,80,2024-01-10T08:00:00Z\n\
                NEW-2,Press,Down,0,2024-01-11T08:00:00Z\n";
    let dry = registry.import_machines(good, false).await.unwrap();
    assert_eq!((dry.rows, dry.problems.len(), dry.applied), (2, 0, false));
    assert_eq!(before, snapshot(&pool).await, "a dry run changes nothing");
    let done = registry.import_machines(good, true).await.unwrap();
    assert_eq!((done.applied, done.created), (true, 2));
    assert_eq!(count(&pool, "SELECT count(*) FROM machines").await, 3);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM machine_history WHERE operation = 'insert'"
        )
        .await,
        3,
        "each imported machine is in the history"
    );
    // The same file again: every name is now taken, nothing is created twice.
    let again = registry.import_machines(good, true).await.unwrap();
    assert!(!again.applied);
    assert_eq!(again.problems.len(), 2);
    assert_eq!(count(&pool, "SELECT count(*) FROM machines").await, 3);
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_export_reads_back_as_an_import(pool: PgPool) {
    let online = Arc::new(registry(pool.clone()));
    for name in ["A-1", "-dash", "@at"] {
        online
            .create_machine(&create_write(input(name)))
            .await
            .unwrap();
    }
    let synced = SyncedRegistry::new(online.clone(), Outbox::open(&outbox_path()).await.unwrap());
    let dir = folder();
    let written = synced
        .export(
            &ExportRequest::Machines {
                query: ListQuery::default(),
            },
            ExportFormat::Csv,
            &dir,
        )
        .await
        .unwrap();
    let text = std::fs::read_to_string(&written.paths[0]).unwrap();
    sqlx::query("DELETE FROM machines")
        .execute(&pool)
        .await
        .unwrap();
    let report = online.import_machines(&text, true).await.unwrap();
    assert_eq!((report.applied, report.created), (true, 3), "{report:?}");
    let names: Vec<String> =
        sqlx::query_scalar("SELECT machine_name FROM machines ORDER BY machine_name")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        names,
        ["-dash", "@at", "A-1"],
        "the apostrophe is taken off again"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_viewer_is_told_by_the_check_that_it_may_not_import(pool: PgPool) {
    mes_core::schema::grant_roles(registry(pool.clone()).db())
        .await
        .unwrap();
    let user = format!("t_viewer_{}", &Uuid::new_v4().simple().to_string()[..8]);
    sqlx::query(&format!(
        "CREATE ROLE {user} LOGIN PASSWORD 'pw' IN ROLE mes_viewer"
    ))
    .execute(&pool)
    .await
    .unwrap();
    let options = (*pool.connect_options())
        .clone()
        .username(&user)
        .password("pw");
    let viewer_pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .unwrap();
    let viewer = registry(viewer_pool.clone());
    let report = viewer
        .import_machines(
            "machine_name,machine_type,operational_status,efficiency,last_maintenance\nNEW-1,Press,Running,80,2024-01-10T08:00:00Z\n",
            false,
        )
        .await
        .unwrap();
    assert_eq!(report.problems.len(), 1);
    assert!(report.problems[0]
        .reason
        .contains("may not create machines"));
    viewer_pool.close().await;
}
