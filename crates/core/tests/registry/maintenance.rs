//! The maintenance plan against a real PostgreSQL: next due from the machine's or its type's
//! interval, recording maintenance (logged, never moving the last maintenance back, fulfilling
//! the planned day), idempotent deliveries (twice, concurrently, after a crash), offline writes
//! through the outbox, and a delete racing them.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use mes_core::domain::{DueState, Machine, PlanMaintenance, RecordMaintenance, SetTypeInterval};
use mes_core::sync::{hooks, replay, Conflict, Outbox, QueuedWrite, SyncedRegistry};
use mes_core::{Registry, RegistryError};
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::*;
use crate::sync::{outbox_path, unreachable};

/// Now, to the second (what an RFC 3339 text of [`iso`] keeps).
fn now_s() -> DateTime<Utc> {
    chrono::DurationRound::duration_trunc(Utc::now(), TimeDelta::seconds(1)).unwrap()
}

fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn plan(uid: Uuid, interval_days: Option<i32>, planned_for: Option<&str>) -> PlanMaintenance {
    PlanMaintenance {
        write_id: Uuid::new_v4(),
        uid,
        sets_interval: true,
        interval_days,
        sets_planned_for: true,
        planned_for: planned_for.map(str::to_owned),
    }
}

fn record(uid: Uuid, done_at: DateTime<Utc>, note: &str) -> RecordMaintenance {
    RecordMaintenance {
        write_id: Uuid::new_v4(),
        uid,
        done_at: iso(done_at),
        note: note.into(),
    }
}

async fn machine_last_done(registry: &Registry, name: &str, days_ago: i64) -> Machine {
    let mut machine = input(name);
    machine.last_maintenance = iso(Utc::now() - TimeDelta::days(days_ago));
    registry
        .create_machine(&create_write(machine))
        .await
        .unwrap()
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn next_due_comes_from_the_machines_interval_else_its_types_most_urgent_first(pool: PgPool) {
    let registry = registry(pool);
    let overdue = machine_last_done(&registry, "A-OVERDUE", 40).await;
    let soon = machine_last_done(&registry, "B-SOON", 25).await;
    let later = machine_last_done(&registry, "C-LATER", 1).await;
    let own = machine_last_done(&registry, "D-OWN", 40).await;
    let mut other_type = input("E-NO-INTERVAL");
    other_type.machine_type = "Press".into();
    registry
        .create_machine(&create_write(other_type))
        .await
        .unwrap();
    registry
        .set_type_interval(&SetTypeInterval {
            machine_type: "Milling Machine".into(),
            interval_days: Some(30),
        })
        .await
        .unwrap();
    registry
        .plan_maintenance(&plan(own.uid, Some(60), Some("2030-01-15")))
        .await
        .unwrap();

    let plan = registry.maintenance_plan().await.unwrap();
    let states: Vec<(&str, DueState, Option<i32>)> = plan
        .machines
        .iter()
        .map(|m| (m.machine_name.as_str(), m.state, m.interval_days()))
        .collect();
    assert_eq!(
        states,
        [
            ("A-OVERDUE", DueState::Overdue, Some(30)),
            ("B-SOON", DueState::DueSoon, Some(30)),
            ("D-OWN", DueState::Scheduled, Some(60)),
            ("C-LATER", DueState::Scheduled, Some(30)),
            ("E-NO-INTERVAL", DueState::Unscheduled, None),
        ]
    );
    let a = &plan.machines[0];
    assert_eq!(a.uid, overdue.uid);
    assert_eq!(
        a.next_due,
        overdue
            .last_maintenance
            .map(|last| last + TimeDelta::days(30))
    );
    let d = plan.machines.iter().find(|m| m.uid == own.uid).unwrap();
    assert_eq!(d.planned_for, NaiveDate::from_ymd_opt(2030, 1, 15));
    assert_eq!(plan.type_intervals.len(), 1);
    assert_eq!(plan.type_intervals[0].interval_days, 30);
    assert!(!plan.type_intervals[0].updated_by.is_empty());
    let _ = (soon, later);

    // Removing the type's interval leaves the machines of the type unscheduled.
    registry
        .set_type_interval(&SetTypeInterval {
            machine_type: "Milling Machine".into(),
            interval_days: None,
        })
        .await
        .unwrap();
    let plan = registry.maintenance_plan().await.unwrap();
    assert_eq!(
        plan.machines
            .iter()
            .filter(|m| m.state == DueState::Unscheduled)
            .count(),
        4
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn recording_maintenance_logs_it_and_never_moves_the_last_maintenance_back(pool: PgPool) {
    let registry = registry(pool.clone());
    let machine = machine_last_done(&registry, "CNC-001", 50).await;
    registry
        .plan_maintenance(&plan(machine.uid, Some(30), Some(&iso(Utc::now())[..10])))
        .await
        .unwrap();
    let done = now_s() - TimeDelta::hours(2);
    let after = registry
        .record_maintenance(&record(machine.uid, done, "  bearings replaced "))
        .await
        .unwrap();
    assert_eq!(after.last_maintenance, Some(done));
    assert_eq!(after.version, machine.version + 1);

    // An older record is logged but moves nothing back.
    let older = registry
        .record_maintenance(&record(machine.uid, done - TimeDelta::days(3), ""))
        .await
        .unwrap();
    assert_eq!(older.last_maintenance, Some(done));
    assert_eq!(older.version, after.version);

    let log = registry.maintenance_log(machine.uid).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].done_at, done);
    assert_eq!(log[0].note, "bearings replaced");
    let user: String = sqlx::query_scalar("SELECT session_user::text")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(log[0].done_by, user);

    // Today's planned day was fulfilled by the record: cleared. The history shows the change.
    let planned = registry.maintenance_plan().await.unwrap();
    let entry = planned
        .machines
        .iter()
        .find(|m| m.uid == machine.uid)
        .unwrap();
    assert_eq!(entry.planned_for, None);
    assert_eq!(entry.state, DueState::Scheduled);
    let history = registry.machine_history(machine.uid).await.unwrap();
    assert!(history[0]
        .changes
        .iter()
        .any(|c| c.field == "last_maintenance"));

    // A planned day beyond the new next due stays.
    registry
        .plan_maintenance(&plan(machine.uid, Some(30), Some("2099-06-01")))
        .await
        .unwrap();
    registry
        .record_maintenance(&record(machine.uid, Utc::now(), ""))
        .await
        .unwrap();
    let planned = registry.maintenance_plan().await.unwrap();
    assert_eq!(
        planned.machines[0].planned_for,
        NaiveDate::from_ymd_opt(2099, 6, 1)
    );

    // The log is append-only, even for the owner of the table.
    let tamper = sqlx::query("UPDATE maintenance_log SET note = 'x'")
        .execute(&pool)
        .await;
    assert!(tamper.is_err());
}

#[sqlx::test(migrations = "../../migrations")]
async fn bad_plans_and_records_are_refused_and_change_nothing(pool: PgPool) {
    let registry = registry(pool.clone());
    let machine = create(&registry, "CNC-001").await;
    let refused = registry
        .plan_maintenance(&plan(machine.uid, Some(0), Some("31.12.2026")))
        .await
        .unwrap_err();
    let RegistryError::Validation(fields) = refused else {
        panic!("{refused:?}")
    };
    assert_eq!(fields.len(), 2);
    let future = registry
        .record_maintenance(&record(machine.uid, Utc::now() + TimeDelta::days(1), ""))
        .await
        .unwrap_err();
    assert!(matches!(future, RegistryError::Validation(_)), "{future:?}");
    let missing = registry
        .record_maintenance(&record(Uuid::new_v4(), Utc::now(), ""))
        .await
        .unwrap_err();
    assert!(
        matches!(missing, RegistryError::NotFound { .. }),
        "{missing:?}"
    );
    let missing = registry
        .plan_maintenance(&plan(Uuid::new_v4(), Some(5), None))
        .await
        .unwrap_err();
    assert!(
        matches!(missing, RegistryError::NotFound { .. }),
        "{missing:?}"
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM maintenance_log").await,
        0
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM maintenance_plans").await,
        0
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM applied_writes WHERE kind LIKE '%maintenance'"
        )
        .await,
        0
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_plan_or_record_delivered_twice_or_concurrently_applies_once(pool: PgPool) {
    let registry = Arc::new(registry(pool.clone()));
    let machine = create(&registry, "CNC-001").await;
    let write = record(machine.uid, Utc::now(), "once");
    let first = registry.record_maintenance(&write).await.unwrap();
    let again = registry.record_maintenance(&write).await.unwrap();
    assert_eq!(first, again);
    for round in 0..5 {
        let write = record(machine.uid, Utc::now(), &format!("round {round}"));
        let both = registry.clone();
        let twin = write.clone();
        // Both deliveries wait on the machine's row, locked by a third session.
        let (a, b) = overlapping(&pool, "SELECT 1 FROM machines FOR UPDATE", 2, async move {
            tokio::join!(
                both.record_maintenance(&twin),
                both.record_maintenance(&twin)
            )
        })
        .await;
        a.unwrap();
        b.unwrap();
        let plan_write = plan(machine.uid, Some(10 + round), None);
        let both = registry.clone();
        let twin = plan_write.clone();
        let (a, b) = overlapping(
            &pool,
            "LOCK TABLE maintenance_plans IN SHARE ROW EXCLUSIVE MODE",
            2,
            async move { tokio::join!(both.plan_maintenance(&twin), both.plan_maintenance(&twin)) },
        )
        .await;
        a.unwrap();
        b.unwrap();
    }
    assert_eq!(
        count(&pool, "SELECT count(*) FROM maintenance_log").await,
        6
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM applied_writes WHERE kind = 'plan_maintenance'"
        )
        .await,
        5
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn offline_plans_and_records_replay_once_after_a_crash_past_the_servers_commit(pool: PgPool) {
    let online = registry(pool.clone());
    let machine = machine_last_done(&online, "CNC-001", 40).await;
    let path = outbox_path();
    let done = now_s() - TimeDelta::minutes(5);
    {
        let outbox = Arc::new(Outbox::open(&path).await.unwrap());
        outbox
            .enqueue(QueuedWrite::PlanMaintenance(plan(
                machine.uid,
                Some(14),
                Some("2099-01-01"),
            )))
            .await
            .unwrap();
        outbox
            .enqueue(QueuedWrite::RecordMaintenance(record(
                machine.uid,
                done,
                "offline",
            )))
            .await
            .unwrap();
        let committed = outbox.hooks().pause_at(hooks::REPLAY_COMMITTED);
        let registry = Arc::new(registry(pool.clone()));
        let replaying = tokio::spawn({
            let outbox = outbox.clone();
            async move { replay(&registry, &outbox).await }
        });
        committed.reached().await;
        assert_eq!(
            count(&pool, "SELECT count(*) FROM maintenance_log").await,
            1
        );
        replaying.abort();
        assert!(replaying.await.unwrap_err().is_cancelled());
        Arc::try_unwrap(outbox).ok().unwrap().close().await;
    }
    let outbox = Outbox::open(&path).await.unwrap();
    assert_eq!(outbox.pending_count().await.unwrap(), 2);
    let report = replay(&online, &outbox).await.unwrap();
    assert_eq!((report.applied, report.conflicts), (2, 0));
    assert_eq!(
        count(&pool, "SELECT count(*) FROM maintenance_log").await,
        1
    );
    let now = online.get_machine(machine.uid).await.unwrap();
    assert_eq!(now.last_maintenance, Some(done));
    assert_eq!(now.version, machine.version + 1);
    let plan = online.maintenance_plan().await.unwrap();
    assert_eq!(plan.machines[0].machine_interval_days, Some(14));
    let _ = std::fs::remove_file(path);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_delete_keeps_the_maintenance_recorded_before_it_and_a_plan_for_a_deleted_machine_needs_attention(
    pool: PgPool,
) {
    let online = registry(pool.clone());
    let kept = create(&online, "CNC-001").await;
    let gone = create(&online, "CNC-002").await;
    let outbox = Outbox::open(&outbox_path()).await.unwrap();
    outbox
        .enqueue(QueuedWrite::RecordMaintenance(record(
            kept.uid,
            Utc::now(),
            "before the delete",
        )))
        .await
        .unwrap();
    outbox
        .enqueue(QueuedWrite::Delete(delete_write(&kept)))
        .await
        .unwrap();
    outbox
        .enqueue(QueuedWrite::PlanMaintenance(plan(gone.uid, Some(7), None)))
        .await
        .unwrap();
    // Another PC deletes the planned machine meanwhile.
    online.delete_machine(&delete_write(&gone)).await.unwrap();

    let report = replay(&online, &outbox).await.unwrap();
    assert_eq!((report.applied, report.conflicts), (2, 1));
    let attention = outbox.needs_attention().await.unwrap();
    assert_eq!(attention[0].conflict, Some(Conflict::MachineDeleted));
    let log: Vec<String> = sqlx::query_scalar("SELECT note FROM maintenance_log")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(log, ["before the delete"]);
    assert_eq!(count(&pool, "SELECT count(*) FROM machines").await, 0);
    assert_eq!(
        online.maintenance_log(kept.uid).await.unwrap().len(),
        1,
        "the log outlives the machine"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn own_edits_after_own_records_do_not_conflict_but_pass_over_no_one_else(pool: PgPool) {
    let online = registry(pool.clone());
    online.set_client(Uuid::new_v4());
    let machine = create(&online, "CNC-001").await;
    online
        .record_maintenance(&record(machine.uid, Utc::now(), ""))
        .await
        .unwrap();
    // The form was opened before the record: its version is older, yet the record was ours.
    let mut edit = input("CNC-001");
    edit.efficiency = Some(70.0);
    edit.last_maintenance = iso(now_s() - TimeDelta::hours(1));
    online
        .update_machine(&update_write(&machine, edit.clone()))
        .await
        .unwrap();

    // Someone else (another PC) records maintenance: a stale edit of ours now conflicts.
    let current = online.get_machine(machine.uid).await.unwrap();
    let other = registry(pool.clone());
    other.set_client(Uuid::new_v4());
    other
        .record_maintenance(&record(machine.uid, Utc::now(), ""))
        .await
        .unwrap();
    edit.efficiency = Some(71.0);
    let stale = online
        .update_machine(&update_write(&current, edit))
        .await
        .unwrap_err();
    assert!(
        matches!(stale, RegistryError::StaleVersion { .. }),
        "{stale:?}"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn offline_the_plan_is_the_last_one_seen_with_this_pcs_waiting_writes_laid_over(
    pool: PgPool,
) {
    let online = Arc::new(registry(pool.clone()));
    let machine = machine_last_done(&online, "CNC-001", 40).await;
    online
        .set_type_interval(&SetTypeInterval {
            machine_type: "Milling Machine".into(),
            interval_days: Some(30),
        })
        .await
        .unwrap();
    let path = outbox_path();
    let synced = SyncedRegistry::new(online.clone(), Outbox::open(&path).await.unwrap());
    let seen = synced.maintenance_plan().await.unwrap();
    assert_eq!(seen.machines[0].state, DueState::Overdue);
    // The copy is kept off the response path.
    let mut kept = false;
    for _ in 0..100 {
        if synced
            .outbox()
            .cache_get("last_maintenance_plan")
            .await
            .unwrap()
            .is_some()
        {
            kept = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(kept, "the plan was kept for offline use");
    drop(synced);

    let offline = SyncedRegistry::new(Arc::new(unreachable()), Outbox::open(&path).await.unwrap());
    let queued = offline
        .record_maintenance(record(machine.uid, Utc::now(), "offline"))
        .await
        .unwrap();
    assert!(
        matches!(queued, mes_core::sync::WriteOutcome::Queued { pending: 1 }),
        "{queued:?}"
    );
    let plan = offline.maintenance_plan().await.unwrap();
    assert!(plan.cached_at.is_some());
    assert_eq!(plan.machines[0].state, DueState::Scheduled);
    let _ = std::fs::remove_file(path);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_plan_sends_only_what_changed_and_a_back_dated_record_fulfils_nothing(pool: PgPool) {
    let registry = registry(pool.clone());
    let machine = machine_last_done(&registry, "CNC-001", 10).await;
    // Planner A, from an older view, plans a day; planner B meanwhile set the interval.
    registry
        .plan_maintenance(&plan(machine.uid, Some(30), None))
        .await
        .unwrap();
    let mut day_only = plan(machine.uid, None, Some("2099-01-01"));
    day_only.sets_interval = false;
    registry.plan_maintenance(&day_only).await.unwrap();
    let planned = registry.maintenance_plan().await.unwrap();
    assert_eq!(planned.machines[0].machine_interval_days, Some(30));
    assert_eq!(
        planned.machines[0].planned_for,
        NaiveDate::from_ymd_opt(2099, 1, 1)
    );

    // A planned day within the interval after the last maintenance …
    let soon = (Utc::now() + TimeDelta::days(5)).date_naive().to_string();
    let mut day_only = plan(machine.uid, None, Some(&soon));
    day_only.sets_interval = false;
    registry.plan_maintenance(&day_only).await.unwrap();
    // … is not fulfilled by an old paper record entered late (it moves nothing) …
    registry
        .record_maintenance(&record(machine.uid, now_s() - TimeDelta::days(40), "paper"))
        .await
        .unwrap();
    let planned = registry.maintenance_plan().await.unwrap();
    assert_eq!(
        planned.machines[0].planned_for.map(|d| d.to_string()),
        Some(soon)
    );
    // … and is by today's.
    registry
        .record_maintenance(&record(machine.uid, now_s(), "done"))
        .await
        .unwrap();
    let planned = registry.maintenance_plan().await.unwrap();
    assert_eq!(planned.machines[0].planned_for, None);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_record_applied_before_its_machine_was_deleted_is_done_on_replay(pool: PgPool) {
    let online = registry(pool.clone());
    let machine = create(&online, "CNC-001").await;
    let write = record(machine.uid, Utc::now(), "before the delete");
    // The record and the delete both committed, but the answer was lost: both are sent again.
    online.record_maintenance(&write).await.unwrap();
    let current = online.get_machine(machine.uid).await.unwrap();
    online
        .delete_machine(&delete_write(&current))
        .await
        .unwrap();
    let outbox = Outbox::open(&outbox_path()).await.unwrap();
    outbox
        .enqueue_sent(QueuedWrite::RecordMaintenance(write))
        .await
        .unwrap();
    let report = replay(&online, &outbox).await.unwrap();
    assert_eq!((report.applied, report.conflicts), (1, 0));
    assert_eq!(
        count(&pool, "SELECT count(*) FROM maintenance_log").await,
        1
    );
}
