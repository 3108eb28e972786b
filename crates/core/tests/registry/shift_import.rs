//! Import of shift counts from CSV against a real PostgreSQL: a dry run reports every bad row
//! (unknown machine or reason, rules of the shift form, overlaps in the file and with recorded
//! shifts) and records nothing; applying records all; applying the same file again records
//! nothing twice.

use mes_core::domain::LossCategory;
use sqlx::PgPool;

use crate::shifts::{machine, reason};
use crate::support::*;

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_shift_import_checks_every_row_then_records_all_or_nothing(pool: PgPool) {
    let registry = registry(pool.clone());
    machine(&registry, "P-1", "Press").await;
    machine(&registry, "L-1", "Lathe").await;
    let breakdown = reason(&registry, LossCategory::Breakdown).await;
    let bad = format!(
        "machine_name,start,end,ideal_cycle_s,total_count,production_rejects,downtime_min,downtime_reason\n\
         P-1,2025-10-01T06:00:00Z,2025-10-01T14:00:00Z,60,400,40,48,{name}\n\
         X-9,2025-10-01T06:00:00Z,2025-10-01T14:00:00Z,60,400,0,,\n\
         L-1,2025-10-01T06:00:00Z,2025-10-01T14:00:00Z,60,400,0,30,No such reason\n\
         P-1,2025-10-01T13:00:00Z,2025-10-01T21:00:00Z,60,100,0,,\n\
         L-1,2025-10-01T14:00:00Z,2025-10-01T22:00:00Z,60,100,200,,\n\
         L-1,2099-10-01T06:00:00Z,2099-10-01T14:00:00Z,60,100,0,,\n",
        name = breakdown.name.to_uppercase()
    );
    let report = registry.import_shifts(&bad, true).await.unwrap();
    assert!(!report.applied);
    assert_eq!(report.rows, 6);
    let found: Vec<(i64, &str)> = report
        .problems
        .iter()
        .map(|p| (p.line, p.field.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (3, "machine_name"),
            (4, "downtime_reason"),
            (5, "start"),
            (6, "production_rejects"),
            (7, "end"),
        ],
        "{:?}",
        report.problems
    );
    assert_eq!(count(&pool, "SELECT count(*) FROM shift_records").await, 0);

    let good = format!(
        "machine,shift start,shift end,cycle_s,parts,scrap,downtime,reason\n\
         p-1,2025-10-01T06:00:00Z,2025-10-01T14:00:00Z,60,400,40,48,{name}\n\
         L-1,2025-10-01T06:00:00Z,2025-10-01T14:00:00Z,30,700,0,,\n\
         P-1,2025-10-01T14:00:00Z,2025-10-01T22:00:00Z,60,300,0,,\n",
        name = breakdown.name
    );
    let dry = registry.import_shifts(&good, false).await.unwrap();
    assert!(dry.problems.is_empty(), "{:?}", dry.problems);
    assert!(!dry.applied);
    assert_eq!(count(&pool, "SELECT count(*) FROM shift_records").await, 0);
    let applied = registry.import_shifts(&good, true).await.unwrap();
    assert!(applied.applied, "{:?}", applied.problems);
    assert_eq!(applied.created, 3);
    assert_eq!(count(&pool, "SELECT count(*) FROM shift_records").await, 3);
    assert_eq!(count(&pool, "SELECT count(*) FROM shift_stops").await, 1);
    // The press's efficiency follows its later shift (300 parts of a minute in 8 hours).
    let press: f64 =
        sqlx::query_scalar("SELECT efficiency FROM machines WHERE machine_name = 'P-1'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(press, 62.5);

    // The same file again: every row overlaps its own record; nothing is recorded twice.
    let again = registry.import_shifts(&good, true).await.unwrap();
    assert!(!again.applied);
    assert_eq!(again.problems.len(), 3);
    assert!(again.problems[0].reason.contains("already recorded"));
    assert_eq!(count(&pool, "SELECT count(*) FROM shift_records").await, 3);
}
