//! Shift records against a real PostgreSQL: the stored sums equal the shift's own, roll-ups add
//! sums (the fleet's OEE is not an average of percentages), overlapping shifts of a machine are
//! refused (also when two PCs enter them at once), a replayed entry is recorded once, reasons
//! are checked and a used reason can be retired but not deleted.

use mes_core::domain::{
    LossCategory, LossReason, NewLossReason, OeeGrouping, RecordShift, ShiftInput, StopInput,
    TimeRange, DEFAULT_REASONS,
};
use mes_core::{Registry, RegistryError};
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::*;

pub(crate) async fn machine(registry: &Registry, name: &str, machine_type: &str) -> Uuid {
    let mut input = input(name);
    input.machine_type = machine_type.into();
    registry
        .create_machine(&create_write(input))
        .await
        .unwrap()
        .uid
}

pub(crate) async fn reason(registry: &Registry, category: LossCategory) -> LossReason {
    registry
        .loss_reasons()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.category == category && !r.retired)
        .unwrap()
}

pub(crate) fn shift(
    machine_uid: Uuid,
    start: &str,
    end: &str,
    ideal_cycle_s: f64,
    total: i64,
) -> ShiftInput {
    ShiftInput {
        machine_uid,
        start: start.into(),
        end: end.into(),
        planned_stops: vec![],
        downtime: vec![],
        ideal_cycle_s,
        total_count: total,
        startup_rejects: 0,
        production_rejects: 0,
        performance_reason: None,
    }
}

pub(crate) fn downtime(minutes: f64, reason: &LossReason) -> StopInput {
    StopInput {
        start: None,
        end: None,
        minutes: Some(minutes),
        reason_id: Some(reason.id),
        category: Some(reason.category),
    }
}

pub(crate) fn record(shift: ShiftInput) -> RecordShift {
    RecordShift {
        write_id: Uuid::new_v4(),
        uid: Uuid::new_v4(),
        shift,
    }
}

fn range(from: &str, to: &str) -> TimeRange {
    TimeRange {
        from: from.parse().unwrap(),
        to: to.parse().unwrap(),
    }
}

const DAY: (&str, &str) = ("2025-11-27T00:00:00Z", "2025-11-28T00:00:00Z");

#[sqlx::test(migrations = "../../migrations")]
async fn a_recorded_shift_rolls_up_to_its_own_sums(pool: PgPool) {
    let registry = registry(pool);
    let press = machine(&registry, "P-1", "Press").await;
    let breakdown = reason(&registry, LossCategory::Breakdown).await;
    let setup = reason(&registry, LossCategory::SetupAdjustment).await;
    let mut input = shift(
        press,
        "2025-11-27T06:00:00Z",
        "2025-11-27T14:00:00Z",
        60.0,
        380,
    );
    input.planned_stops = vec![StopInput {
        start: Some("2025-11-27T10:00:00Z".into()),
        end: Some("2025-11-27T10:30:00Z".into()),
        minutes: None,
        reason_id: None,
        category: None,
    }];
    input.downtime = vec![downtime(45.0, &breakdown), downtime(15.0, &setup)];
    input.startup_rejects = 10;
    input.production_rejects = 20;
    let expected = input.validate().unwrap().totals();
    registry.record_shift(&record(input)).await.unwrap();

    let fleet = registry
        .oee_totals(range(DAY.0, DAY.1), OeeGrouping::Fleet)
        .await
        .unwrap();
    assert_eq!(fleet.len(), 1);
    assert_eq!(fleet[0].totals, expected);
    let oee = fleet[0].totals.figures().oee.unwrap();
    assert!((oee - 350.0 / 450.0).abs() < 1e-12, "{oee}");
    // A range the shift did not begin in holds nothing.
    let before = registry
        .oee_totals(
            range("2025-11-26T00:00:00Z", "2025-11-27T06:00:00Z"),
            OeeGrouping::Fleet,
        )
        .await
        .unwrap();
    assert_eq!(before[0].totals.shifts, 0);
    assert_eq!(before[0].totals.figures().oee, None);
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_fleet_is_a_sum_of_times_not_an_average_of_percentages(pool: PgPool) {
    let registry = registry(pool);
    let short = machine(&registry, "S-1", "Lathe").await;
    let long = machine(&registry, "L-1", "Press").await;
    // 2 h at OEE 100 %, 22 h at 50 %.
    for input in [
        shift(
            short,
            "2025-11-27T06:00:00Z",
            "2025-11-27T08:00:00Z",
            60.0,
            120,
        ),
        shift(
            long,
            "2025-11-27T01:00:00Z",
            "2025-11-27T23:00:00Z",
            60.0,
            660,
        ),
    ] {
        registry.record_shift(&record(input)).await.unwrap();
    }
    let fleet = registry
        .oee_totals(range(DAY.0, DAY.1), OeeGrouping::Fleet)
        .await
        .unwrap();
    let oee = fleet[0].totals.figures().oee.unwrap();
    assert!((oee - 13.0 / 24.0).abs() < 1e-12, "fleet OEE {oee}");
    let per_machine = registry
        .oee_totals(range(DAY.0, DAY.1), OeeGrouping::Machine)
        .await
        .unwrap();
    let average: f64 = per_machine
        .iter()
        .map(|g| g.totals.figures().oee.unwrap())
        .sum::<f64>()
        / per_machine.len() as f64;
    assert!((average - 0.75).abs() < 1e-12);
    let labels: Vec<&str> = per_machine.iter().map(|g| g.label.as_str()).collect();
    assert!(labels.contains(&"S-1") && labels.contains(&"L-1"));
    let per_type = registry
        .oee_totals(range(DAY.0, DAY.1), OeeGrouping::MachineType)
        .await
        .unwrap();
    let keys: Vec<&str> = per_type.iter().map(|g| g.key.as_str()).collect();
    assert_eq!(keys, ["Lathe", "Press"]);
}

#[sqlx::test(migrations = "../../migrations")]
async fn overlapping_shifts_of_a_machine_are_refused_and_nothing_is_kept(pool: PgPool) {
    let registry = registry(pool.clone());
    let press = machine(&registry, "P-1", "Press").await;
    let other = machine(&registry, "P-2", "Press").await;
    registry
        .record_shift(&record(shift(
            press,
            "2025-11-27T06:00:00Z",
            "2025-11-27T14:00:00Z",
            60.0,
            1,
        )))
        .await
        .unwrap();
    let overlapping = registry
        .record_shift(&record(shift(
            press,
            "2025-11-27T13:00:00Z",
            "2025-11-27T21:00:00Z",
            60.0,
            1,
        )))
        .await;
    match overlapping {
        Err(RegistryError::Validation(errors)) => assert_eq!(errors[0].field, "start"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Back to back, and another machine at the same time, are fine.
    registry
        .record_shift(&record(shift(
            press,
            "2025-11-27T14:00:00Z",
            "2025-11-27T22:00:00Z",
            60.0,
            1,
        )))
        .await
        .unwrap();
    registry
        .record_shift(&record(shift(
            other,
            "2025-11-27T13:00:00Z",
            "2025-11-27T21:00:00Z",
            60.0,
            1,
        )))
        .await
        .unwrap();
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM shift_records")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 3);

    // Two PCs entering overlapping shifts of one machine at the same moment: one is kept.
    let night = machine(&registry, "N-1", "Press").await;
    let first = record(shift(
        night,
        "2025-11-27T22:00:00Z",
        "2025-11-28T06:00:00Z",
        60.0,
        1,
    ));
    let second = record(shift(
        night,
        "2025-11-27T23:00:00Z",
        "2025-11-28T07:00:00Z",
        60.0,
        1,
    ));
    let (a, b) = tokio::join!(
        registry.record_shift(&first),
        registry.record_shift(&second)
    );
    assert_eq!(
        [a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(),
        1,
        "{a:?} {b:?}"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_entry_delivered_twice_is_recorded_once(pool: PgPool) {
    let registry = registry(pool.clone());
    let press = machine(&registry, "P-1", "Press").await;
    let breakdown = reason(&registry, LossCategory::Breakdown).await;
    let mut input = shift(
        press,
        "2025-11-27T06:00:00Z",
        "2025-11-27T14:00:00Z",
        60.0,
        100,
    );
    input.downtime = vec![downtime(30.0, &breakdown)];
    let write = record(input);
    registry.record_shift(&write).await.unwrap();
    // The same write again (a replay after a lost answer): answered as recorded.
    registry.record_shift(&write).await.unwrap();
    let (shifts, stops): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM shift_records), (SELECT count(*) FROM shift_stops)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((shifts, stops), (1, 1));
    // Entered by the server's user, whatever a client would claim.
    let by: String = sqlx::query_scalar("SELECT entered_by FROM shift_records")
        .fetch_one(&pool)
        .await
        .unwrap();
    let me: String = sqlx::query_scalar("SELECT session_user::text")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(by, me);
}

#[sqlx::test(migrations = "../../migrations")]
async fn reasons_are_checked_retired_not_deleted(pool: PgPool) {
    let registry = registry(pool.clone());
    let press = machine(&registry, "P-1", "Press").await;
    // The default tree is the domain's.
    let reasons = registry.loss_reasons().await.unwrap();
    assert_eq!(reasons.len(), DEFAULT_REASONS.len());
    assert!(reasons
        .iter()
        .all(|r| r.built_in && DEFAULT_REASONS.contains(&(r.category, r.name.as_str()))));

    let gripper = registry
        .add_loss_reason(&NewLossReason {
            name: " Gripper fault ".into(),
            category: LossCategory::Breakdown,
        })
        .await
        .unwrap();
    assert_eq!(gripper.name, "Gripper fault");
    let twice = registry
        .add_loss_reason(&NewLossReason {
            name: "gripper FAULT".into(),
            category: LossCategory::SmallStop,
        })
        .await;
    assert!(
        matches!(twice, Err(RegistryError::Validation(_))),
        "{twice:?}"
    );

    // A reason of another loss than the form counted, or an unknown one, is refused.
    let mut wrong = shift(
        press,
        "2025-11-27T06:00:00Z",
        "2025-11-27T14:00:00Z",
        60.0,
        100,
    );
    wrong.downtime = vec![StopInput {
        category: Some(LossCategory::SmallStop),
        ..downtime(10.0, &gripper)
    }];
    let refused = registry.record_shift(&record(wrong)).await;
    match refused {
        Err(RegistryError::Validation(errors)) => {
            assert_eq!(errors[0].field, "downtime[0].category")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }

    let mut used = shift(
        press,
        "2025-11-27T06:00:00Z",
        "2025-11-27T14:00:00Z",
        60.0,
        100,
    );
    used.downtime = vec![downtime(10.0, &gripper)];
    registry.record_shift(&record(used)).await.unwrap();
    // A used reason cannot be deleted (the record's reference refuses it) but can be retired.
    let deleted = sqlx::query("DELETE FROM loss_reasons WHERE id = $1")
        .bind(gripper.id)
        .execute(&pool)
        .await;
    assert!(deleted.is_err());
    let mut replayed = shift(
        press,
        "2025-11-28T06:00:00Z",
        "2025-11-28T14:00:00Z",
        60.0,
        100,
    );
    replayed.downtime = vec![downtime(10.0, &gripper)];
    let replayed = record(replayed);
    registry.record_shift(&replayed).await.unwrap();
    let retired = registry.retire_loss_reason(gripper.id).await.unwrap();
    assert!(retired.retired);
    // A replay of an entry made before the reason was retired is still answered as recorded.
    registry.record_shift(&replayed).await.unwrap();
    let mut after = shift(
        press,
        "2025-11-27T14:00:00Z",
        "2025-11-27T22:00:00Z",
        60.0,
        100,
    );
    after.downtime = vec![downtime(10.0, &gripper)];
    assert!(matches!(
        registry.record_shift(&record(after)).await,
        Err(RegistryError::Validation(_))
    ));
    // A machine that is gone.
    let gone = registry
        .record_shift(&record(shift(
            Uuid::new_v4(),
            "2025-11-27T06:00:00Z",
            "2025-11-27T07:00:00Z",
            60.0,
            1,
        )))
        .await;
    assert!(
        matches!(gone, Err(RegistryError::NotFound { .. })),
        "{gone:?}"
    );
}

/// Compares two sums field by field (floating sums in another order differ in the last bits).
fn assert_same(a: &mes_core::domain::OeeTotals, b: &mes_core::domain::OeeTotals, what: &str) {
    let pairs = [
        (a.planned_busy_s, b.planned_busy_s),
        (a.breakdown_s, b.breakdown_s),
        (a.setup_s, b.setup_s),
        (a.small_stop_s, b.small_stop_s),
        (a.produced, b.produced),
        (a.startup_rejects, b.startup_rejects),
        (a.production_rejects, b.production_rejects),
        (a.ideal_produced_s, b.ideal_produced_s),
        (a.ideal_startup_rejects_s, b.ideal_startup_rejects_s),
        (a.ideal_production_rejects_s, b.ideal_production_rejects_s),
    ];
    for (x, y) in pairs {
        assert!((x - y).abs() < 1e-6, "{what}: {a:?} != {b:?}");
    }
    assert_eq!(a.shifts, b.shifts, "{what}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_daily_sums_equal_the_records_for_any_range(pool: PgPool) {
    use chrono::{DateTime, TimeDelta, Utc};
    let registry = registry(pool.clone());
    let breakdown = reason(&registry, LossCategory::Breakdown).await;
    let small = reason(&registry, LossCategory::SmallStop).await;
    let mut machines = Vec::new();
    for (i, kind) in ["Press", "Lathe", "Press"].iter().enumerate() {
        machines.push((machine(&registry, &format!("D-{i}"), kind).await, *kind));
    }
    // Three shifts a day for five days on each machine, with stops and rejects that vary.
    let first: DateTime<Utc> = "2025-11-20T06:00:00Z".parse().unwrap();
    let mut entered = Vec::new();
    let mut n = 0i64;
    for day in 0..5 {
        for shift_of_day in 0..3 {
            for (uid, kind) in &machines {
                n += 1;
                let start = first + TimeDelta::days(day) + TimeDelta::hours(8 * shift_of_day);
                let end = start + TimeDelta::hours(8);
                let iso = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                let mut input = shift(
                    *uid,
                    &iso(start),
                    &iso(end),
                    30.0 + (n % 7) as f64,
                    500 + n % 300,
                );
                input.downtime = vec![
                    downtime((n % 50 + 1) as f64, &breakdown),
                    downtime((n % 9 + 1) as f64, &small),
                ];
                input.planned_stops = vec![StopInput {
                    start: None,
                    end: None,
                    minutes: Some(30.0),
                    reason_id: None,
                    category: None,
                }];
                input.startup_rejects = n % 5;
                input.production_rejects = n % 11;
                let totals = input.validate().unwrap().totals();
                let write = record(input);
                registry.record_shift(&write).await.unwrap();
                entered.push((write.uid, start, *uid, kind.to_string(), totals));
            }
        }
    }
    // An administrator removes one record: its sums leave the daily sums too. And every shift
    // of one machine on the last day: that day lists no empty group for it.
    let removed = entered.remove(7);
    sqlx::query("DELETE FROM shift_records WHERE uid = $1")
        .bind(removed.0)
        .execute(&pool)
        .await
        .unwrap();
    let last_day: DateTime<Utc> = "2025-11-24T00:00:00Z".parse().unwrap();
    let lathe = machines[1].0;
    sqlx::query("DELETE FROM shift_records WHERE machine_uid = $1 AND started_at >= $2")
        .bind(lathe)
        .bind(last_day)
        .execute(&pool)
        .await
        .unwrap();
    entered.retain(|e| !(e.2 == lathe && e.1 >= last_day));
    let last = registry
        .oee_totals(
            range("2025-11-24T00:00:00Z", "2025-11-25T00:00:00Z"),
            OeeGrouping::MachineType,
        )
        .await
        .unwrap();
    assert_eq!(
        last.iter().map(|g| g.key.as_str()).collect::<Vec<_>>(),
        ["Press"],
        "no empty Lathe group"
    );

    let ranges = [
        ("2025-11-20T00:00:00Z", "2025-11-25T00:00:00Z"), // whole days only
        ("2025-11-20T07:00:00Z", "2025-11-24T15:30:00Z"), // partial edges
        ("2025-11-22T05:00:00Z", "2025-11-22T23:00:00Z"), // inside one day
        ("2025-11-21T00:00:00Z", "2025-11-21T14:00:00Z"), // from a midnight to within the day
        ("2025-11-19T23:00:00Z", "2025-11-23T00:00:00Z"), // to a midnight
        ("2025-12-01T00:00:00Z", "2025-12-02T00:00:00Z"), // nothing
    ];
    for (from, to) in ranges {
        let range = range(from, to);
        let within: Vec<_> = entered
            .iter()
            .filter(|e| e.1 >= range.from && e.1 < range.to)
            .collect();
        let fleet = registry
            .oee_totals(range, OeeGrouping::Fleet)
            .await
            .unwrap();
        let expected: mes_core::domain::OeeTotals = within.iter().map(|e| e.4).sum();
        assert_same(&fleet[0].totals, &expected, &format!("fleet {from}..{to}"));
        for group in registry
            .oee_totals(range, OeeGrouping::MachineType)
            .await
            .unwrap()
        {
            let expected = within
                .iter()
                .filter(|e| e.3 == group.key)
                .map(|e| e.4)
                .sum();
            assert_same(
                &group.totals,
                &expected,
                &format!("type {} {from}..{to}", group.key),
            );
        }
        let per_machine = registry
            .oee_totals(range, OeeGrouping::Machine)
            .await
            .unwrap();
        let with_shifts = machines
            .iter()
            .filter(|(uid, _)| within.iter().any(|e| e.2 == *uid))
            .count();
        assert_eq!(per_machine.len(), with_shifts);
        for group in per_machine {
            let expected = within
                .iter()
                .filter(|e| e.2.to_string() == group.key)
                .map(|e| e.4)
                .sum();
            assert_same(&group.totals, &expected, &format!("machine {from}..{to}"));
        }
        // One machine's own sums (its waterfall), from its daily rows and its edge shifts.
        for (uid, _) in &machines {
            let own = registry.machine_oee_totals(range, *uid).await.unwrap();
            let expected = within.iter().filter(|e| e.2 == *uid).map(|e| e.4).sum();
            assert_same(&own, &expected, &format!("one machine {from}..{to}"));
        }
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn overlapping_entries_at_repeatable_read_cannot_both_commit(pool: PgPool) {
    // Another tool, or a database whose default isolation is REPEATABLE READ: the second of
    // two overlapping entries cannot see the first in its snapshot, so it must fail to commit.
    let registry = registry(pool.clone());
    let press = machine(&registry, "P-1", "Press").await;
    let insert = |start: &str, end: &str| {
        format!(
            "INSERT INTO shift_records (uid, write_id, machine_uid, machine_name, machine_type,
                 started_at, ended_at, planned_busy_s, ideal_cycle_s, total_count)
             VALUES (gen_random_uuid(), gen_random_uuid(), '{press}', 'P-1', 'Press',
                 '{start}', '{end}', 3600, 60, 1)"
        )
    };
    let mut first = pool.acquire().await.unwrap();
    let mut second = pool.acquire().await.unwrap();
    for connection in [&mut first, &mut second] {
        sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ")
            .execute(&mut **connection)
            .await
            .unwrap();
        sqlx::query("SELECT count(*) FROM shift_records")
            .execute(&mut **connection)
            .await
            .unwrap();
    }
    sqlx::query(&insert("2025-11-27T06:00:00Z", "2025-11-27T14:00:00Z"))
        .execute(&mut *first)
        .await
        .unwrap();
    let late = insert("2025-11-27T10:00:00Z", "2025-11-27T18:00:00Z");
    let (second_result, ()) = tokio::join!(sqlx::query(&late).execute(&mut *second), async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        sqlx::query("COMMIT").execute(&mut *first).await.unwrap();
    });
    let code = second_result.err().and_then(|e| {
        e.as_database_error()
            .and_then(|d| d.code())
            .map(|c| c.into_owned())
    });
    assert!(
        matches!(code.as_deref(), Some("40001") | Some("23P01")),
        "the second overlapping entry went through: {code:?}"
    );
    let _ = sqlx::query("ROLLBACK").execute(&mut *second).await;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM shift_records")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
}
