//! The planner's reliability table at plant scale: 5,000 machines with 1,000,000 history rows
//! over 90 days (about 40 % of them status changes, the rest other edits), the periods made from
//! that history as migration 7 makes them. Reports the core call (server, network, decoding
//! 5,000 rows) and the server's own execution time of the query.

use std::sync::Arc;
use std::time::Instant;

use chrono::{TimeDelta, Utc};
use mes_core::domain::TimeRange;
use mes_core::Registry;

use crate::fixtures;
use crate::stats::{ms, time_async, Table};

const MACHINES: i64 = 5_000;
const HISTORY_ROWS: i64 = 1_000_000;
const TARGET_MS: f64 = 50.0;
const TIMELINE_TARGET_MS: f64 = 10.0;

/// Migration 7's own statement that makes the periods from a recorded history.
fn backfill() -> &'static str {
    const MIGRATION: &str = include_str!("../../../migrations/20240101000007_status_periods.sql");
    let start = MIGRATION
        .find("WITH events AS")
        .expect("backfill in migration 7");
    let end = start + MIGRATION[start..].find(";\n").expect("end of the backfill");
    &MIGRATION[start..end]
}

pub async fn planner_at_scale(registry: Arc<Registry>) -> String {
    let pool = registry.pool().clone();
    sqlx::query("TRUNCATE machines RESTART IDENTITY")
        .execute(&pool)
        .await
        .expect("truncate");
    fixtures::bulk_insert(&pool, MACHINES, "P-").await;
    let started = Instant::now();
    // A loading connection without the app's deadline (the load takes a while).
    let mut load_conn = pool.acquire().await.expect("connection");
    sqlx::query("SET statement_timeout = 0")
        .execute(&mut *load_conn)
        .await
        .expect("no timeout");
    // The bulk history goes in without the per-row trigger; its periods are then made from it in
    // one statement, the way migration 7 makes them from a recorded history.
    for statement in [
        "ALTER TABLE machine_history DISABLE TRIGGER machine_history_track_status",
        "TRUNCATE machine_status_periods",
        "INSERT INTO machine_history (machine_id, machine_uid, operation, changed_at, version, changes)
         SELECT m.id, m.uid, 'update',
                now() - interval '90 days' + (g.n::float8 / $1 * interval '90 days'),
                2,
                CASE WHEN g.n % 5 < 2
                     THEN jsonb_build_object('operational_status', jsonb_build_array(
                          (ARRAY['Running','Idle','Maintenance','Down'])[1 + (g.n / $2) % 4],
                          (ARRAY['Running','Idle','Maintenance','Down'])[1 + ((g.n / $2) + 1 + (g.n % 3)) % 4]))
                     ELSE jsonb_build_object('efficiency', jsonb_build_array(50, 40 + g.n % 60)) END
         FROM generate_series(0, $1 - 1) g(n)
         JOIN machines m ON m.id = 1 + (g.n % $2)",
        "ALTER TABLE machine_history ENABLE TRIGGER machine_history_track_status",
        backfill(),
        // As autovacuum leaves a table: statistics and the visibility map (index-only scans).
        "VACUUM ANALYZE machine_history",
        "VACUUM ANALYZE machine_status_periods",
    ] {
        let query = sqlx::query(statement);
        let query = if statement.contains("$1") {
            query.bind(HISTORY_ROWS).bind(MACHINES)
        } else {
            query
        };
        query
            .execute(&mut *load_conn)
            .await
            .unwrap_or_else(|e| panic!("planner fixture: {e}\n{statement}"));
    }
    sqlx::query("RESET statement_timeout")
        .execute(&mut *load_conn)
        .await
        .expect("reset");
    drop(load_conn);
    let periods: i64 = sqlx::query_scalar("SELECT count(*) FROM machine_status_periods")
        .fetch_one(&pool)
        .await
        .expect("count");
    let load = started.elapsed();

    let now = Utc::now();
    let ninety = TimeRange {
        from: now - TimeDelta::days(90),
        to: now,
    };
    let seven = TimeRange {
        from: now - TimeDelta::days(7),
        to: now,
    };
    let core_90 = time_async(3, 30, |_| {
        let registry = registry.clone();
        async move {
            registry.reliability(ninety).await.expect("reliability");
        }
    })
    .await;
    let core_7 = time_async(3, 30, |_| {
        let registry = registry.clone();
        async move {
            registry.reliability(seven).await.expect("reliability");
        }
    })
    .await;
    let server_ms = |range: TimeRange| {
        let pool = pool.clone();
        async move {
            let mut samples = Vec::new();
            let mut conn = pool.acquire().await.expect("connection");
            sqlx::query("SET jit = off")
                .execute(&mut *conn)
                .await
                .expect("jit off");
            for _ in 0..15 {
                let plan: sqlx::types::Json<serde_json::Value> = sqlx::query_scalar(&format!(
                    "EXPLAIN (ANALYZE, FORMAT JSON) {}",
                    mes_core::repo::MACHINE_RELIABILITY_SQL
                ))
                .bind(range.from)
                .bind(range.to)
                .bind(Utc::now())
                .fetch_one(&mut *conn)
                .await
                .expect("explain");
                samples.push(plan.0[0]["Execution Time"].as_f64().unwrap_or(f64::NAN));
            }
            let _ = sqlx::query("RESET jit").execute(&mut *conn).await;
            samples.sort_by(|a, b| a.total_cmp(b));
            samples[samples.len() / 2]
        }
    };
    let server_90 = server_ms(ninety).await;
    let server_7 = server_ms(seven).await;

    // One machine's 90-day timeline (about 80 status periods and 120 efficiency changes in it),
    // and the maintenance plan of the whole fleet.
    let busiest: uuid::Uuid = sqlx::query_scalar(
        "SELECT machine_uid FROM machine_status_periods GROUP BY machine_uid ORDER BY count(*) DESC, machine_uid LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .expect("a machine");
    let bands = registry
        .machine_timeline(busiest, ninety)
        .await
        .expect("timeline")
        .bands
        .len();
    let timeline = time_async(3, 50, |_| {
        let registry = registry.clone();
        async move {
            registry
                .machine_timeline(busiest, ninety)
                .await
                .expect("timeline");
        }
    })
    .await;
    let plan = time_async(2, 15, |_| {
        let registry = registry.clone();
        async move {
            registry.maintenance_plan().await.expect("plan");
        }
    })
    .await;

    let mut table = Table::new(
        &format!(
            "Planner: reliability table ({MACHINES} machines, {HISTORY_ROWS} history rows over 90 days, {periods} status periods; loaded in {:.1} s)",
            load.as_secs_f64()
        ),
        &["range", "core p50 ms", "core p95 ms", "server p50 ms", "target (server p50)"],
    );
    for (name, core, server) in [
        ("90 days", &core_90, server_90),
        ("7 days", &core_7, server_7),
    ] {
        table.row(&[
            name.into(),
            ms(core.p50),
            ms(core.p95),
            format!("{server:.1}"),
            format!(
                "≤ {TARGET_MS} ms {}",
                if server <= TARGET_MS { "✓" } else { "✗" }
            ),
        ]);
    }
    let mut more = Table::new(
        "Planner: a machine's timeline and the fleet's maintenance plan (same data)",
        &["call", "core p50 ms", "core p95 ms", "target"],
    );
    more.row(&[
        format!("timeline, 90 days ({bands} status bands)"),
        ms(timeline.p50),
        ms(timeline.p95),
        format!(
            "≤ {TIMELINE_TARGET_MS} ms {}",
            if timeline.p50.as_secs_f64() * 1000.0 <= TIMELINE_TARGET_MS {
                "✓"
            } else {
                "✗"
            }
        ),
    ]);
    more.row(&[
        format!("maintenance plan ({MACHINES} machines)"),
        ms(plan.p50),
        ms(plan.p95),
        "—".into(),
    ]);
    format!("{}\n{}", table.render(), more.render())
}
