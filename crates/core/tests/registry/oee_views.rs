//! The planner's OEE views against a real PostgreSQL: the trend day by day equals the sums of
//! that day's shifts (for the fleet, a type, a machine), and the downtime Pareto adds up the
//! stops by reason and category, largest first, only for shifts that began in the range.

use mes_core::domain::{LossCategory, OeeGrouping, ShiftInput, TimeRange};
use mes_core::{Registry, RegistryError};
use sqlx::PgPool;

use crate::shifts::{downtime, machine, reason, record, shift};
use crate::support::*;

fn range(from: &str, to: &str) -> TimeRange {
    TimeRange {
        from: from.parse().unwrap(),
        to: to.parse().unwrap(),
    }
}

async fn enter(registry: &Registry, input: ShiftInput) -> mes_core::domain::OeeTotals {
    let totals = input.validate().unwrap().totals();
    registry.record_shift(&record(input)).await.unwrap();
    totals
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_trend_and_the_pareto_add_up_the_shifts(pool: PgPool) {
    let registry = registry(pool);
    let press = machine(&registry, "P-1", "Press").await;
    let lathe = machine(&registry, "L-1", "Lathe").await;
    let breakdown = reason(&registry, LossCategory::Breakdown).await;
    let setup = reason(&registry, LossCategory::SetupAdjustment).await;

    let mut a = shift(
        press,
        "2025-10-01T06:00:00Z",
        "2025-10-01T14:00:00Z",
        60.0,
        400,
    );
    a.downtime = vec![downtime(30.0, &breakdown), downtime(10.0, &setup)];
    let a = enter(&registry, a).await;
    let mut b = shift(
        lathe,
        "2025-10-01T14:00:00Z",
        "2025-10-01T22:00:00Z",
        30.0,
        700,
    );
    b.downtime = vec![downtime(20.0, &breakdown)];
    let b = enter(&registry, b).await;
    let mut c = shift(
        press,
        "2025-10-02T06:00:00Z",
        "2025-10-02T14:00:00Z",
        60.0,
        300,
    );
    c.downtime = vec![downtime(90.0, &setup)];
    let c = enter(&registry, c).await;
    // Outside the range: counts nowhere.
    let mut outside = shift(
        press,
        "2025-10-05T06:00:00Z",
        "2025-10-05T14:00:00Z",
        60.0,
        200,
    );
    outside.downtime = vec![downtime(200.0, &breakdown)];
    enter(&registry, outside).await;

    let days = range("2025-10-01T00:00:00Z", "2025-10-03T00:00:00Z");
    let fleet = registry
        .oee_trend(days, OeeGrouping::Fleet, None)
        .await
        .unwrap();
    assert_eq!(fleet.len(), 2);
    assert_eq!(fleet[0].day.to_string(), "2025-10-01");
    assert_eq!(fleet[0].totals, a + b);
    assert_eq!(fleet[1].totals, c);
    assert_eq!(fleet[0].figures, (a + b).figures());
    let presses = registry
        .oee_trend(days, OeeGrouping::MachineType, Some("Press".into()))
        .await
        .unwrap();
    assert_eq!(presses.iter().map(|d| d.totals).collect::<Vec<_>>(), [a, c]);
    let lathe_days = registry
        .oee_trend(days, OeeGrouping::Machine, Some(lathe.to_string()))
        .await
        .unwrap();
    assert_eq!(lathe_days.len(), 1);
    assert_eq!(lathe_days[0].totals, b);

    // A range with partial days at its edges: the days hold only the range's shifts, and add
    // up to its totals.
    let partial = range("2025-10-01T10:00:00Z", "2025-10-02T10:00:00Z");
    let edges = registry
        .oee_trend(partial, OeeGrouping::Fleet, None)
        .await
        .unwrap();
    assert_eq!(edges.iter().map(|d| d.totals).collect::<Vec<_>>(), [b, c]);
    let whole = registry
        .oee_totals(partial, OeeGrouping::Fleet)
        .await
        .unwrap();
    assert_eq!(whole[0].totals, b + c);
    let lathe_edges = registry
        .oee_trend(partial, OeeGrouping::Machine, Some(lathe.to_string()))
        .await
        .unwrap();
    assert_eq!(lathe_edges.len(), 1);

    let pareto = registry
        .downtime_pareto(days, OeeGrouping::Fleet, None)
        .await
        .unwrap();
    let reasons: Vec<_> = pareto
        .reasons
        .iter()
        .map(|r| (r.reason_id, r.seconds, r.events))
        .collect();
    assert_eq!(
        reasons,
        [(setup.id, 6000.0, 2), (breakdown.id, 3000.0, 2)],
        "largest first, only the range's shifts"
    );
    assert_eq!(pareto.categories[0].category, LossCategory::SetupAdjustment);
    let lathe_pareto = registry
        .downtime_pareto(days, OeeGrouping::Machine, Some(lathe.to_string()))
        .await
        .unwrap();
    assert_eq!(lathe_pareto.reasons.len(), 1);
    assert_eq!(lathe_pareto.reasons[0].seconds, 1200.0);

    // A type or machine grouping names its group.
    let missing = registry
        .oee_trend(days, OeeGrouping::Machine, None)
        .await
        .unwrap_err();
    assert!(
        matches!(missing, RegistryError::Validation(_)),
        "{missing:?}"
    );
    let bad = registry
        .downtime_pareto(days, OeeGrouping::Machine, Some("not a uid".into()))
        .await
        .unwrap_err();
    assert!(matches!(bad, RegistryError::Validation(_)), "{bad:?}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_oee_tables_export_with_their_sums(pool: PgPool) {
    use mes_core::export::{ExportFormat, ExportRequest};
    use mes_core::sync::{Outbox, SyncedRegistry};
    use std::sync::Arc;

    let online = Arc::new(registry(pool));
    let press = machine(&online, "P-1", "Press").await;
    let breakdown = reason(&online, LossCategory::Breakdown).await;
    let mut one = shift(
        press,
        "2025-10-01T06:00:00Z",
        "2025-10-01T14:00:00Z",
        60.0,
        400,
    );
    one.downtime = vec![downtime(48.0, &breakdown)];
    one.production_rejects = 40;
    enter(&online, one).await;
    let synced = SyncedRegistry::new(
        online.clone(),
        Outbox::open(&crate::sync::outbox_path()).await.unwrap(),
    );
    let dir = std::env::temp_dir().join(format!("mes-oee-export-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let request = ExportRequest::Oee {
        range: range("2025-10-01T00:00:00Z", "2025-10-02T00:00:00Z"),
        machine_type: None,
        machine: None,
    };
    let csv = synced
        .export(&request, ExportFormat::Csv, &dir)
        .await
        .unwrap();
    assert_eq!(csv.paths.len(), 5, "{:?}", csv.paths);
    let by_type = std::fs::read_to_string(&csv.paths[0]).unwrap();
    let mut lines = by_type.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("machine_type,shifts,oee_percent,"));
    // 75 % OEE: A 90 %, P 92.59 %, Q 90 %; 8 h planned, 6 h fully productive, 2 h lost.
    assert_eq!(
        lines.next().unwrap(),
        "Press,1,75,90,92.59,90,8,0.8,0,0,6,2,400,0,40"
    );
    let reasons = std::fs::read_to_string(&csv.paths[3]).unwrap();
    assert!(
        reasons
            .lines()
            .nth(1)
            .unwrap()
            .ends_with(",breakdown,1,0.8,100,fleet"),
        "{reasons}"
    );
    let xlsx = synced
        .export(&request, ExportFormat::Xlsx, &dir)
        .await
        .unwrap();
    assert_eq!(xlsx.paths.len(), 1, "one workbook, five sheets");
    let _ = std::fs::remove_dir_all(dir);
}
