//! Migrations never wedge a plant: a failed migration leaves no lock behind, a start waits for
//! another PC's migration only briefly, a database newer than the app is refused with a clear
//! message, and the status report only reads.

use std::time::{Duration, Instant};

use mes_core::{schema, RegistryError, MIGRATOR};
use sqlx::PgPool;

use crate::support::*;

#[sqlx::test(migrations = false)]
async fn a_failed_migration_leaves_no_lock_and_the_next_start_fails_just_as_fast(pool: PgPool) {
    // A tutorial table with a row the adoption refuses: every migration attempt fails.
    sqlx::query(crate::adoption::TUTORIAL_TABLE)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO machines (machine_name, machine_type, operational_status, efficiency, last_maintenance) VALUES ('BAD', 'Press', 'Exploded', 5, now())")
        .execute(&pool)
        .await
        .unwrap();
    for attempt in 0..3 {
        let registry = registry(pool.clone());
        let started = Instant::now();
        let error = schema::migrate(registry.db()).await.unwrap_err();
        assert!(matches!(error, RegistryError::SchemaRefused(_)), "{error}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "attempt {attempt} waited"
        );
        // The migration's session is closed: its lock goes with it (the server notices the
        // session's end a moment later).
        eventually(5, "no advisory lock left held", || async {
            let held: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            held == 0
        })
        .await;
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_start_waits_for_another_pcs_migration_only_briefly(pool: PgPool) {
    // Another PC is in the middle of a migration: it holds the migrations table.
    let mut other = pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE _sqlx_migrations IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *other)
        .await
        .unwrap();
    let registry = registry(pool.clone());
    let started = Instant::now();
    let error = schema::migrate(registry.db()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(error.is_transient(), "{error}");
    assert!(
        error.to_string().contains("another PC is upgrading"),
        "{error}"
    );
    other.rollback().await.unwrap();
    schema::migrate(registry.db()).await.unwrap();
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_database_newer_than_the_app_is_refused_clearly(pool: PgPool) {
    sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (99990101000000, 'from a newer app', true, '\\x00', 0)")
        .execute(&pool)
        .await
        .unwrap();
    let registry = registry(pool.clone());
    let started = Instant::now();
    let error = registry.ensure_schema().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    let text = error.to_string();
    assert!(
        text.contains("this app is older than the database (schema 99990101000000 >"),
        "{text}"
    );
    let state = schema::inspect(registry.db()).await.unwrap();
    assert!(!state.up_to_date());
}

#[sqlx::test(migrations = false)]
async fn the_status_report_only_reads(pool: PgPool) {
    let registry = registry(pool.clone());
    let state = schema::inspect(registry.db()).await.unwrap();
    assert_eq!(state.database, 0);
    assert!(state.app > 0);
    let tables: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(tables, 0, "nothing was created");
    registry.ping().await.unwrap();
    let _ = MIGRATOR.iter().count();
}
