//! Reliability figures against hand-computed fixtures: periods straddling both edges of the
//! range, a machine Down now (counted up to now), a machine without any history in the range,
//! a machine deleted mid-range, changes by a plain SQL client, and the roll-up by type made
//! of sums (never an average of MTTRs).

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use mes_core::domain::{by_type, MachineReliability, TimeRange};
use mes_core::repo;
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::*;

const H: i64 = 3600;
const D: i64 = 24 * H;

fn d0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap()
}

fn at(seconds: i64) -> DateTime<Utc> {
    d0() + TimeDelta::seconds(seconds)
}

/// A history row as the trigger would write it, at a chosen time.
async fn history(
    pool: &PgPool,
    uid: Uuid,
    when: DateTime<Utc>,
    operation: &str,
    changes: serde_json::Value,
) {
    sqlx::query(
        "INSERT INTO machine_history (machine_id, machine_uid, operation, changed_at, version, changes)
         VALUES (0, $1, $2, $3, 1, $4)",
    )
    .bind(uid)
    .bind(operation)
    .bind(when)
    .bind(changes)
    .execute(pool)
    .await
    .unwrap();
}

/// A machine with its creation in the history at `when` (its row written without the trigger,
/// so that only the fixture's history speaks).
async fn created(pool: &PgPool, when: i64, name: &str, machine_type: &str, status: &str) -> Uuid {
    let uid = Uuid::new_v4();
    quietly(
        pool,
        "INSERT INTO machines (uid, machine_name, machine_type, operational_status, efficiency, last_maintenance) VALUES ($1, $2, $3, $4, 50, now())",
        uid,
        &[name, machine_type, status],
    )
    .await;
    history(
        pool,
        uid,
        at(when),
        "insert",
        serde_json::json!({
            "machine_name": [null, name], "machine_type": [null, machine_type],
            "operational_status": [null, status]
        }),
    )
    .await;
    uid
}

/// Runs `sql` on `machines` with the history trigger off (the fixture writes the history).
async fn quietly(pool: &PgPool, sql: &str, uid: Uuid, texts: &[&str]) {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("ALTER TABLE machines DISABLE TRIGGER machines_history")
        .execute(&mut *tx)
        .await
        .unwrap();
    let mut query = sqlx::query(sql).bind(uid);
    for text in texts {
        query = query.bind(*text);
    }
    query.execute(&mut *tx).await.unwrap();
    sqlx::query("ALTER TABLE machines ENABLE TRIGGER machines_history")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn deleted(pool: &PgPool, uid: Uuid, when: i64) {
    quietly(pool, "DELETE FROM machines WHERE uid = $1", uid, &[]).await;
    history(pool, uid, at(when), "delete", serde_json::json!({})).await;
}

async fn status(pool: &PgPool, uid: Uuid, when: i64, old: &str, new: &str) {
    history(
        pool,
        uid,
        at(when),
        "update",
        serde_json::json!({ "operational_status": [old, new] }),
    )
    .await;
}

fn find<'a>(machines: &'a [MachineReliability], name: &str) -> &'a MachineReliability {
    machines
        .iter()
        .find(|m| m.machine_name == name)
        .unwrap_or_else(|| panic!("{name} missing from {machines:?}"))
}

#[sqlx::test(migrations = "../../migrations")]
async fn figures_match_hand_computed_fixtures(pool: PgPool) {
    let range = TimeRange {
        from: at(0),
        to: at(10 * D),
    };

    // A: Running before the range, two Down periods inside it (6 h and 2 h), Running after.
    let a = created(&pool, -2 * D, "A-PRESS", "Press", "Running").await;
    status(&pool, a, D, "Running", "Down").await;
    status(&pool, a, D + 6 * H, "Down", "Running").await;
    status(&pool, a, 4 * D, "Running", "Down").await;
    status(&pool, a, 4 * D + 2 * H, "Down", "Running").await;

    // B: Down across the start, Running, then Maintenance across the end (still open).
    let b = created(&pool, -D, "B-PRESS", "Press", "Down").await;
    status(&pool, b, 2 * D, "Down", "Running").await;
    status(&pool, b, 9 * D, "Running", "Maintenance").await;

    // D: deleted on day 3.
    let gone = created(&pool, -5 * D, "OLD-9", "Lathe", "Running").await;
    deleted(&pool, gone, 3 * D).await;

    // E: a machine of today, with no history in the range.
    let registry = registry(pool.clone());
    create(&registry, "E-NEW").await;

    let machines = repo::machine_reliability(&mut pool.acquire().await.unwrap(), range, at(20 * D))
        .await
        .unwrap();

    let a = find(&machines, "A-PRESS");
    assert_eq!(
        a.times.running_s,
        (D + (2 * D + 18 * H) + (5 * D + 22 * H)) as f64
    );
    assert_eq!(a.times.down_s, (8 * H) as f64);
    assert_eq!(a.times.observed_s(), (10 * D) as f64);
    assert_eq!((a.times.down_periods, a.times.failures), (2, 2));
    assert_eq!(a.mttr_s, Some((4 * H) as f64));
    assert_eq!(a.mtbf_s, Some(835_200.0 / 2.0));
    assert!(!a.deleted);

    let b = find(&machines, "B-PRESS");
    assert_eq!(
        b.times.down_s,
        (2 * D) as f64,
        "clipped at the range's start"
    );
    assert_eq!(b.times.running_s, (7 * D) as f64);
    assert_eq!(
        b.times.maintenance_s, D as f64,
        "clipped at the range's end"
    );
    assert_eq!(
        (b.times.down_periods, b.times.failures),
        (1, 0),
        "Down before the range is no failure in it"
    );
    assert_eq!(b.mttr_s, Some((2 * D) as f64));
    assert_eq!(b.mtbf_s, None);

    let gone = find(&machines, "OLD-9");
    assert!(gone.deleted);
    assert_eq!(gone.machine_type, "Lathe");
    assert_eq!(gone.times.running_s, (3 * D) as f64);
    assert_eq!(
        gone.times.observed_s(),
        (3 * D) as f64,
        "nothing after its deletion"
    );

    let fresh = find(&machines, "E-NEW");
    assert!(!fresh.deleted);
    assert_eq!(fresh.times.observed_s(), 0.0);
    assert_eq!((fresh.mttr_s, fresh.mtbf_s), (None, None));

    // By type: sums of times and periods, not an average of the machines' MTTRs.
    let types = by_type(&machines);
    let press = types.iter().find(|t| t.machine_type == "Press").unwrap();
    assert_eq!(press.machines, 2);
    assert_eq!(press.times.down_s, (8 * H + 2 * D) as f64);
    assert_eq!(press.times.down_periods, 3);
    assert_eq!(press.mttr_s, Some((8 * H + 2 * D) as f64 / 3.0));
    assert_ne!(press.mttr_s, Some(((4 * H) as f64 + (2 * D) as f64) / 2.0));
    assert_eq!(
        press.mtbf_s,
        Some((D + (2 * D + 18 * H) + (5 * D + 22 * H) + 7 * D) as f64 / 2.0)
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_machine_down_now_counts_up_to_now(pool: PgPool) {
    let c = created(&pool, 3 * D, "C-LATHE", "Lathe", "Idle").await;
    status(&pool, c, 4 * D, "Idle", "Down").await;
    let range = TimeRange {
        from: at(0),
        to: at(10 * D),
    };
    let machines = repo::machine_reliability(&mut pool.acquire().await.unwrap(), range, at(5 * D))
        .await
        .unwrap();
    let c = find(&machines, "C-LATHE");
    assert_eq!(c.times.idle_s, D as f64);
    assert_eq!(
        c.times.down_s, D as f64,
        "Down from day 4 up to now (day 5), not to the range's end"
    );
    assert_eq!((c.times.down_periods, c.times.failures), (1, 1));
    assert_eq!(c.mttr_s, Some(D as f64));
    assert_eq!(c.mtbf_s, Some(0.0));
}

#[sqlx::test(migrations = "../../migrations")]
async fn changes_by_a_plain_sql_client_count(pool: PgPool) {
    sqlx::query("INSERT INTO machines (machine_name, machine_type, operational_status, efficiency, last_maintenance) VALUES ('SQL-1', 'Press', 'Running', 50, now())")
        .execute(&pool)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    sqlx::query("UPDATE machines SET operational_status = 'Down' WHERE machine_name = 'SQL-1'")
        .execute(&pool)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    // A change that is not a status change makes no new period.
    sqlx::query("UPDATE machines SET efficiency = 10 WHERE machine_name = 'SQL-1'")
        .execute(&pool)
        .await
        .unwrap();
    let registry = registry(pool.clone());
    let now = Utc::now();
    let report = registry
        .reliability(TimeRange {
            from: now - TimeDelta::hours(1),
            to: now + TimeDelta::hours(1),
        })
        .await
        .unwrap();
    let sql = find(&report.machines, "SQL-1");
    assert!(!sql.deleted);
    assert!(
        sql.times.running_s > 0.0 && sql.times.down_s > 0.0,
        "{sql:?}"
    );
    assert_eq!((sql.times.down_periods, sql.times.failures), (1, 1));
    let periods: i64 = sqlx::query_scalar("SELECT count(*) FROM machine_status_periods")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(periods, 2);

    // A reversed range is refused, and says why.
    let refused = registry
        .reliability(TimeRange {
            from: now,
            to: now - TimeDelta::hours(1),
        })
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("end after it begins"),
        "{refused}"
    );
}

#[sqlx::test(migrations = false)]
async fn the_periods_are_made_from_the_history_recorded_before_them(pool: PgPool) {
    // The schema as it was before migration 7, with a history already recorded.
    let before = sqlx::migrate::Migrator {
        migrations: std::borrow::Cow::Owned(
            mes_core::MIGRATOR
                .iter()
                .filter(|m| m.version < 20240101000007)
                .cloned()
                .collect(),
        ),
        ignore_missing: false,
        locking: true,
        no_tx: false,
    };
    before.run(&pool).await.unwrap();
    let a = created(&pool, -D, "A-PRESS", "Press", "Running").await;
    status(&pool, a, 2 * D, "Running", "Down").await;
    // Changed without a status change: no period boundary.
    history(
        &pool,
        a,
        at(3 * D),
        "update",
        serde_json::json!({ "efficiency": [50, 10] }),
    )
    .await;
    status(&pool, a, 4 * D, "Down", "Idle").await;
    let gone = created(&pool, 0, "GONE", "Lathe", "Down").await;
    deleted(&pool, gone, D).await;
    // Machines from before the history (adopted): one changed once since, one never.
    sqlx::query("ALTER TABLE machines DISABLE TRIGGER machines_history")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO machines (machine_name, machine_type, operational_status, efficiency, last_maintenance, created_at) VALUES ('OLD-1', 'Press', 'Idle', 50, now(), $1), ('OLD-2', 'Press', 'Maintenance', 50, now(), $1)")
        .bind(at(-10 * D))
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE machines ENABLE TRIGGER machines_history")
        .execute(&pool)
        .await
        .unwrap();
    let old1: Uuid = sqlx::query_scalar("SELECT uid FROM machines WHERE machine_name = 'OLD-1'")
        .fetch_one(&pool)
        .await
        .unwrap();
    status(&pool, old1, 5 * D, "Running", "Idle").await;

    mes_core::MIGRATOR.run(&pool).await.unwrap();

    let range = TimeRange {
        from: at(0),
        to: at(10 * D),
    };
    let machines = repo::machine_reliability(&mut pool.acquire().await.unwrap(), range, at(10 * D))
        .await
        .unwrap();
    let pressed = find(&machines, "A-PRESS");
    assert_eq!(pressed.times.running_s, (2 * D) as f64);
    assert_eq!(pressed.times.down_s, (2 * D) as f64);
    assert_eq!(pressed.times.idle_s, (6 * D) as f64);
    assert_eq!((pressed.times.down_periods, pressed.times.failures), (1, 1));
    let old1 = find(&machines, "OLD-1");
    assert_eq!(
        old1.times.running_s,
        (5 * D) as f64,
        "its old status since adoption"
    );
    assert_eq!(old1.times.idle_s, (5 * D) as f64);
    let old2 = find(&machines, "OLD-2");
    assert_eq!(
        old2.times.maintenance_s,
        (10 * D) as f64,
        "unchanged since adoption"
    );
    let gone = find(&machines, "GONE");
    assert_eq!(gone.times.down_s, D as f64);
    assert_eq!(gone.times.observed_s(), D as f64);
    // New changes after the migration go on from the backfilled periods.
    status(&pool, a, 11 * D, "Idle", "Running").await;
    let open: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM machine_status_periods WHERE machine_uid = $1 AND ended_at IS NULL",
    )
    .bind(a)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(open, 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn fleet_efficiency_is_a_median_and_a_distribution_not_an_average(pool: PgPool) {
    let registry = registry(pool.clone());
    mes_core::samples::seed_if_empty(&registry).await.unwrap();
    let fleet = registry.fleet_efficiency(85.0).await.unwrap();
    assert_eq!(fleet.machines, 4);
    // 0.0, 78.3, 85.5, 92.0: the median is 81.9; the plain average (63.95) is not shown.
    assert!((fleet.median.unwrap() - 81.9).abs() < 1e-9, "{fleet:?}");
    assert_eq!(fleet.histogram, vec![1, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
    let below: Vec<(&str, f64)> = fleet
        .below_target
        .iter()
        .map(|m| (m.machine_name.as_str(), m.efficiency))
        .collect();
    assert_eq!(below, vec![("CNC-004", 0.0), ("ASM-003", 78.3)]);
    assert_eq!(fleet.by_type.len(), 4);
    let refused = registry.fleet_efficiency(120.0).await.unwrap_err();
    assert!(refused.to_string().contains("percentage"), "{refused}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_machines_timeline_is_clipped_to_the_range_with_its_efficiency_then(pool: PgPool) {
    let b = created(&pool, -D, "B-PRESS", "Press", "Down").await;
    history(
        &pool,
        b,
        at(-H),
        "update",
        serde_json::json!({ "efficiency": [50, 40] }),
    )
    .await;
    status(&pool, b, 2 * D, "Down", "Running").await;
    history(
        &pool,
        b,
        at(3 * D),
        "update",
        serde_json::json!({ "efficiency": [40, 88.5] }),
    )
    .await;
    status(&pool, b, 9 * D, "Running", "Maintenance").await;
    let range = TimeRange {
        from: at(0),
        to: at(10 * D),
    };
    let timeline = repo::machine_timeline(&mut pool.acquire().await.unwrap(), b, range, at(20 * D))
        .await
        .unwrap();
    let bands: Vec<(&str, DateTime<Utc>, DateTime<Utc>, bool)> = timeline
        .bands
        .iter()
        .map(|band| (band.status.as_str(), band.from, band.to, band.open))
        .collect();
    assert_eq!(
        bands,
        vec![
            ("Down", at(0), at(2 * D), false),
            ("Running", at(2 * D), at(9 * D), false),
            ("Maintenance", at(9 * D), at(10 * D), true),
        ]
    );
    let efficiency: Vec<(DateTime<Utc>, Option<f64>)> = timeline
        .efficiency
        .iter()
        .map(|p| (p.at, p.efficiency))
        .collect();
    assert_eq!(
        efficiency,
        vec![(at(0), Some(40.0)), (at(3 * D), Some(88.5))],
        "the value in force at the start, then each change"
    );
}
