//! Entering shifts as an operator does, against a real PostgreSQL: the machine's efficiency
//! follows the OEE of its latest completed shift (an earlier shift entered late moves nothing, a
//! typed value is marked as typed, a rename keeps the mark), a shift not over yet is refused,
//! and shifts entered offline go through the outbox: replayed once after a crash past the
//! server's commit, kept when the machine is deleted after them, and an operator's edit queued
//! after a shift neither conflicts with it nor moves before it.

use std::sync::Arc;

use chrono::{DurationRound, TimeDelta, Utc};
use mes_core::domain::LossCategory;
use mes_core::sync::{hooks, replay, Outbox, QueuedWrite, SyncedRegistry, WriteOutcome};
use mes_core::RegistryError;
use sqlx::PgPool;
use uuid::Uuid;

use crate::shifts::{downtime, machine, reason, record, shift};
use crate::support::*;
use crate::sync::{outbox_path, unreachable};

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// A shift of 8 hours that ended `hours_ago` hours ago, on the hour.
fn ended(hours_ago: i64) -> (String, String) {
    let end = Utc::now().duration_trunc(TimeDelta::hours(1)).unwrap() - TimeDelta::hours(hours_ago);
    let iso = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    (iso(end - TimeDelta::hours(8)), iso(end))
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_efficiency_follows_the_latest_shift_and_a_typed_value_is_marked(pool: PgPool) {
    let registry = registry(pool.clone());
    let press = machine(&registry, "P-1", "Press").await;
    let breakdown = reason(&registry, LossCategory::Breakdown).await;
    // 8 h planned, 48 min down: A = 0.9; 400 parts of 60 s in 432 min: P = 400/432;
    // 40 rejects: Q = 0.9. OEE = 360 min of good parts / 480 = 75 %.
    let (start, end) = ended(2);
    let mut entry = shift(press, &start, &end, 60.0, 400);
    entry.downtime = vec![downtime(48.0, &breakdown)];
    entry.production_rejects = 40;
    let latest = record(entry);
    let answered = registry.record_shift(&latest).await.unwrap();
    assert_eq!(answered.efficiency, Some(75.0));
    assert_eq!(answered.efficiency_shift, Some(latest.uid));
    let stored = registry.get_machine(press).await.unwrap();
    assert_eq!(stored, answered);

    // A shift from the day before, entered late: recorded, but the efficiency stays.
    let (start, end) = ended(26);
    let earlier = registry
        .record_shift(&record(shift(press, &start, &end, 60.0, 100)))
        .await
        .unwrap();
    assert_eq!(earlier.efficiency, Some(75.0));
    assert_eq!(earlier.efficiency_shift, Some(latest.uid));
    assert_eq!(earlier.version, answered.version, "nothing moved");

    // A rename in the app keeps the efficiency and its mark …
    let mut renamed = input("P-1 renamed");
    renamed.efficiency = Some(75.0);
    let after_rename = registry
        .update_machine(&update_write(&earlier, renamed))
        .await
        .unwrap();
    assert_eq!(after_rename.efficiency_shift, Some(latest.uid));
    // … a value typed by another tool is marked as typed.
    sqlx::query("UPDATE machines SET efficiency = 80 WHERE uid = $1")
        .bind(press)
        .execute(&pool)
        .await
        .unwrap();
    let typed = registry.get_machine(press).await.unwrap();
    assert_eq!(
        (typed.efficiency, typed.efficiency_shift),
        (Some(80.0), None)
    );
    assert_eq!(typed.version, after_rename.version + 1);
    // A shift that ended before the value was typed does not undo it …
    let (_, end) = ended(1);
    let end_at: chrono::DateTime<Utc> = end.parse().unwrap();
    let half_hour =
        (end_at - TimeDelta::minutes(30)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let before_typing = registry
        .record_shift(&record(shift(press, &half_hour, &end, 60.0, 15)))
        .await
        .unwrap();
    assert_eq!(
        (before_typing.efficiency, before_typing.efficiency_shift),
        (Some(80.0), None)
    );
    // … the next one to end after it takes over: half an hour at the ideal rate, just over.
    let iso = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let now = Utc::now();
    let next = shift(
        press,
        &iso(now - TimeDelta::minutes(29)),
        &iso(now + TimeDelta::minutes(1)),
        60.0,
        30,
    );
    let next = record(next);
    let after = registry.record_shift(&next).await.unwrap();
    assert_eq!(after.efficiency, Some(100.0));
    assert_eq!(after.efficiency_shift, Some(next.uid));
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_shift_not_over_yet_is_refused_and_a_shift_without_planned_time_moves_nothing(
    pool: PgPool,
) {
    let registry = registry(pool.clone());
    let press = machine(&registry, "P-1", "Press").await;
    let (start, _) = ended(0);
    let later =
        (Utc::now() + TimeDelta::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let error = registry
        .record_shift(&record(shift(press, &start, &later, 60.0, 10)))
        .await
        .unwrap_err();
    let RegistryError::Validation(fields) = error else {
        panic!("{error:?}")
    };
    assert_eq!(fields[0].field, "end");
    assert_eq!(count(&pool, "SELECT count(*) FROM shift_records").await, 0);

    // Only planned stops: no planned busy time, no OEE, the typed efficiency stays as it was.
    let before = registry.get_machine(press).await.unwrap();
    let (start, end) = ended(1);
    let mut idle = shift(press, &start, &end, 60.0, 0);
    idle.planned_stops = vec![mes_core::domain::StopInput {
        start: Some(start.clone()),
        end: Some(end.clone()),
        minutes: None,
        reason_id: None,
        category: None,
    }];
    let after = registry.record_shift(&record(idle)).await.unwrap();
    assert_eq!(after.efficiency, before.efficiency);
    assert_eq!(after.efficiency_shift, None);
    assert_eq!(after.version, before.version);
    assert_eq!(count(&pool, "SELECT count(*) FROM shift_records").await, 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_shift_entered_offline_replays_once_after_a_crash_past_the_servers_commit(pool: PgPool) {
    let online = Arc::new(registry(pool.clone()));
    online.set_client(Uuid::new_v4());
    let press = machine(&online, "P-1", "Press").await;
    let seen = online.get_machine(press).await.unwrap();
    let path = outbox_path();
    let (start, end) = ended(1);
    let entry = record(shift(press, &start, &end, 60.0, 240));
    {
        // Offline: the entry is queued, then the operator renames the machine from the form
        // they opened before it (its version is the one before the shift).
        let offline =
            SyncedRegistry::new(Arc::new(unreachable()), Outbox::open(&path).await.unwrap());
        let queued = offline.record_shift(entry.clone()).await.unwrap();
        assert!(
            matches!(queued, WriteOutcome::Queued { pending: 1 }),
            "{queued:?}"
        );
        let mut renamed = input("P-1 renamed");
        renamed.machine_type = "Press".into();
        renamed.efficiency = seen.efficiency;
        let mut rename = update_write(&seen, renamed);
        rename.efficiency_seen = seen.efficiency;
        offline.update_machine(rename).await.unwrap();
    }
    let outbox = Arc::new(Outbox::open(&path).await.unwrap());
    assert_eq!(
        outbox.pending_count().await.unwrap(),
        2,
        "not folded before the shift"
    );
    {
        // Back online, the PC dies right after the server committed the shift.
        let committed = outbox.hooks().pause_at(hooks::REPLAY_COMMITTED);
        let registry = online.clone();
        let replaying = tokio::spawn({
            let outbox = outbox.clone();
            async move { replay(&registry, &outbox).await }
        });
        committed.reached().await;
        assert_eq!(count(&pool, "SELECT count(*) FROM shift_records").await, 1);
        replaying.abort();
        assert!(replaying.await.unwrap_err().is_cancelled());
    }
    let outbox = Arc::try_unwrap(outbox).ok().unwrap();
    outbox.close().await;
    let outbox = Outbox::open(&path).await.unwrap();
    let report = replay(&online, &outbox).await.unwrap();
    assert_eq!(
        (report.applied, report.conflicts),
        (2, 0),
        "own edit passes over own shift"
    );
    assert_eq!(count(&pool, "SELECT count(*) FROM shift_records").await, 1);
    assert_eq!(count(&pool, "SELECT count(*) FROM shift_stops").await, 0);
    let now = online.get_machine(press).await.unwrap();
    assert_eq!(now.machine_name, "P-1 renamed");
    // The rename left the efficiency as the form showed it: the shift's OEE stays (240 parts
    // of a minute in 8 hours), marked as the shift's.
    assert_eq!(now.efficiency, Some(50.0));
    assert_eq!(now.efficiency_shift, Some(entry.uid));
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM applied_writes WHERE kind = 'record_shift'"
        )
        .await,
        1
    );
    let _ = std::fs::remove_file(path);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_delete_queued_after_a_shift_keeps_the_shift(pool: PgPool) {
    let online = registry(pool.clone());
    let press = machine(&online, "P-1", "Press").await;
    let current = online.get_machine(press).await.unwrap();
    let outbox = Outbox::open(&outbox_path()).await.unwrap();
    let (start, end) = ended(1);
    outbox
        .enqueue(QueuedWrite::RecordShift(record(shift(
            press, &start, &end, 60.0, 240,
        ))))
        .await
        .unwrap();
    outbox
        .enqueue(QueuedWrite::Delete(delete_write(&current)))
        .await
        .unwrap();
    assert_eq!(outbox.pending_count().await.unwrap(), 2);
    let report = replay(&online, &outbox).await.unwrap();
    assert_eq!((report.applied, report.conflicts), (2, 0));
    assert_eq!(count(&pool, "SELECT count(*) FROM machines").await, 0);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM shift_records").await,
        1,
        "the record outlives the machine"
    );
}

/// Inserts a shift record as `pool`'s role would with psql (no app in between).
async fn insert_by_hand(
    pool: &PgPool,
    machine: Uuid,
    hours_ago: i64,
    name: &str,
    total: i64,
) -> Result<Uuid, sqlx::Error> {
    let (start, end) = ended(hours_ago);
    let uid = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO shift_records (uid, write_id, machine_uid, machine_name, machine_type,
             started_at, ended_at, planned_busy_s, breakdown_s, setup_s, small_stop_s,
             ideal_cycle_s, total_count, startup_rejects, production_rejects)
         VALUES ($1, $2, $3, $4, 'Fake type', $5::timestamptz, $6::timestamptz, 28800, 0, 0, 0,
                 60, $7, 0, 0)",
    )
    .bind(uid)
    .bind(Uuid::new_v4())
    .bind(machine)
    .bind(name)
    .bind(start)
    .bind(end)
    .bind(total)
    .execute(pool)
    .await?;
    Ok(uid)
}

fn constraint(error: &sqlx::Error) -> Option<String> {
    error
        .as_database_error()
        .and_then(|e| e.constraint().map(str::to_owned))
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_operator_cannot_forge_the_mark_nor_a_record_the_app_would_refuse(pool: PgPool) {
    mes_core::schema::grant_roles(registry(pool.clone()).db())
        .await
        .unwrap();
    let owner = registry(pool.clone());
    let press = machine(&owner, "P-1", "Press").await;
    let operator = crate::roles::user_in(&pool, "mes_operator").await;

    // The mark cannot be set by hand, alone or with a typed value.
    sqlx::query("UPDATE machines SET efficiency_shift = gen_random_uuid(), efficiency_shift_end = now() WHERE uid = $1")
        .bind(press)
        .execute(&operator)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE machines SET efficiency = 33, efficiency_shift = gen_random_uuid() WHERE uid = $1",
    )
    .bind(press)
    .execute(&operator)
    .await
    .unwrap();
    let typed = owner.get_machine(press).await.unwrap();
    assert_eq!(
        (typed.efficiency, typed.efficiency_shift),
        (Some(33.0), None)
    );
    // The end of a shift behind a value is the server's: typing sets it to now.
    let end: Option<chrono::DateTime<Utc>> =
        sqlx::query_scalar("SELECT efficiency_shift_end FROM machines WHERE uid = $1")
            .bind(press)
            .fetch_one(&pool)
            .await
            .unwrap();
    let forged_far: chrono::DateTime<Utc> = Utc::now() + TimeDelta::minutes(1);
    assert!(end.is_some_and(|e| e < forged_far), "{end:?}");

    // A record not over yet by the server's clock, and one faster than its ideal cycle time
    // without a reason, are refused; the name and type are the machine's, whatever is given.
    let future = insert_by_hand(&operator, press, -3, "P-1", 10)
        .await
        .unwrap_err();
    assert_eq!(constraint(&future).as_deref(), Some("shift_records_ended"));
    let fast = insert_by_hand(&operator, press, 1, "P-1", 500)
        .await
        .unwrap_err();
    assert_eq!(
        constraint(&fast).as_deref(),
        Some("shift_records_performance_reason")
    );
    let uid = insert_by_hand(&operator, press, 1, "Not its name", 240)
        .await
        .unwrap();
    let (name, kind): (String, String) =
        sqlx::query_as("SELECT machine_name, machine_type FROM shift_records WHERE uid = $1")
            .bind(uid)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((name.as_str(), kind.as_str()), ("P-1", "Press"));
    // It ended before the operator typed 33: the typed value holds.
    let kept = owner.get_machine(press).await.unwrap();
    assert_eq!((kept.efficiency, kept.efficiency_shift), (Some(33.0), None));
    // Entered by hand for a machine with nothing typed, it moves the efficiency (the owner's
    // trigger does); deleted again, the mark goes and the value stays.
    let lathe = machine(&owner, "L-1", "Lathe").await;
    let uid = insert_by_hand(&operator, lathe, 1, "L-1", 240)
        .await
        .unwrap();
    let moved = owner.get_machine(lathe).await.unwrap();
    assert_eq!(
        (moved.efficiency, moved.efficiency_shift),
        (Some(50.0), Some(uid))
    );
    sqlx::query("DELETE FROM shift_records WHERE uid = $1")
        .bind(uid)
        .execute(&pool)
        .await
        .unwrap();
    let unmarked = owner.get_machine(lathe).await.unwrap();
    assert_eq!(
        (unmarked.efficiency, unmarked.efficiency_shift),
        (Some(50.0), None)
    );
    // A shift entered again (an earlier one) takes over: nothing stale is behind the value.
    let again = insert_by_hand(&operator, lathe, 10, "L-1", 120)
        .await
        .unwrap();
    let after = owner.get_machine(lathe).await.unwrap();
    assert_eq!(
        (after.efficiency, after.efficiency_shift),
        (Some(25.0), Some(again))
    );
    sqlx::query("TRUNCATE shift_stops, shift_records")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        owner.get_machine(lathe).await.unwrap().efficiency_shift,
        None
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn two_entries_racing_leave_the_efficiency_of_the_later_shift(pool: PgPool) {
    let registry = Arc::new(registry(pool.clone()));
    let press = machine(&registry, "P-1", "Press").await;
    // PC 1 enters the later shift and has not committed yet: it holds the machine's row.
    let mut first = pool.begin().await.unwrap();
    let later = {
        let (start, end) = ended(1);
        let uid = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO shift_records (uid, write_id, machine_uid, machine_name, machine_type,
                 started_at, ended_at, planned_busy_s, breakdown_s, setup_s, small_stop_s,
                 ideal_cycle_s, total_count, startup_rejects, production_rejects)
             VALUES ($1, gen_random_uuid(), $2, '', '', $3::timestamptz, $4::timestamptz,
                     28800, 0, 0, 0, 60, 240, 0, 0)",
        )
        .bind(uid)
        .bind(press)
        .bind(start)
        .bind(end)
        .execute(&mut *first)
        .await
        .unwrap();
        uid
    };
    // PC 2 enters the earlier shift meanwhile: it waits for the row.
    let (start, end) = ended(10);
    let earlier = record(shift(press, &start, &end, 60.0, 120));
    let entering = tokio::spawn({
        let registry = registry.clone();
        let earlier = earlier.clone();
        async move { registry.record_shift(&earlier).await }
    });
    let mut waited = false;
    for _ in 0..200 {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        if waiting > 0 {
            waited = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(waited, "the second entry waits for the first");
    first.commit().await.unwrap();
    let answered = entering.await.unwrap().unwrap();
    assert_eq!(
        answered.efficiency_shift,
        Some(later),
        "the later shift's OEE stays"
    );
    assert_eq!(answered.efficiency, Some(50.0));
    assert_eq!(count(&pool, "SELECT count(*) FROM shift_records").await, 2);
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_forms_lists_hold_the_types_cycle_times_and_are_kept_for_offline_entry(pool: PgPool) {
    let online = Arc::new(registry(pool.clone()));
    machine(&online, "P-1", "Press").await;
    let set = |seconds| mes_core::domain::SetTypeCycleTime {
        machine_type: " Press ".into(),
        ideal_cycle_s: seconds,
    };
    online.set_ideal_cycle_time(&set(Some(42.5))).await.unwrap();
    online.set_ideal_cycle_time(&set(Some(40.0))).await.unwrap();
    let bad = online
        .set_ideal_cycle_time(&set(Some(0.0)))
        .await
        .unwrap_err();
    assert!(matches!(bad, RegistryError::Validation(_)), "{bad:?}");
    let path = outbox_path();
    let synced = SyncedRegistry::new(online.clone(), Outbox::open(&path).await.unwrap());
    let lists = synced.shift_form_lists().await.unwrap();
    assert_eq!(lists.cached_at, None);
    assert_eq!(lists.ideal_cycle_times.len(), 1);
    assert_eq!(lists.ideal_cycle_times[0].machine_type, "Press");
    assert_eq!(lists.ideal_cycle_times[0].ideal_cycle_s, 40.0);
    assert!(!lists.reasons.is_empty());
    // The copy is kept off the response path.
    let mut kept = false;
    for _ in 0..100 {
        if synced
            .outbox()
            .cache_get("last_shift_form_lists")
            .await
            .unwrap()
            .is_some()
        {
            kept = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(kept);
    drop(synced);
    let offline = SyncedRegistry::new(Arc::new(unreachable()), Outbox::open(&path).await.unwrap());
    let cached = offline.shift_form_lists().await.unwrap();
    assert!(cached.cached_at.is_some());
    assert_eq!(cached.ideal_cycle_times, lists.ideal_cycle_times);
    assert_eq!(cached.reasons, lists.reasons);
    online.set_ideal_cycle_time(&set(None)).await.unwrap();
    assert_eq!(online.ideal_cycle_times().await.unwrap().len(), 0);
    let _ = std::fs::remove_file(path);
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_edit_passing_over_its_own_writes_writes_a_typed_efficiency_even_an_earlier_one(
    pool: PgPool,
) {
    let online = registry(pool.clone());
    online.set_client(Uuid::new_v4());
    let press = machine(&online, "P-1", "Press").await;
    let base = online.get_machine(press).await.unwrap();
    let first = base.efficiency;
    // Two edits made from the same version (the second form showed the first's 60).
    let mut sixty = input("P-1");
    sixty.efficiency = Some(60.0);
    let mut a = update_write(&base, sixty);
    a.efficiency_seen = first;
    online.update_machine(&a).await.unwrap();
    let mut back = input("P-1");
    back.efficiency = first;
    let mut b = update_write(&base, back);
    b.efficiency_seen = Some(60.0);
    let after = online.update_machine(&b).await.unwrap();
    assert_eq!(
        after.efficiency, first,
        "typed back to the earlier value: written"
    );
    // An edit that left it as shown (a rename) keeps what is there now.
    let mut renamed = input("P-1 renamed");
    renamed.efficiency = Some(60.0);
    let mut c = update_write(&base, renamed);
    c.efficiency_seen = Some(60.0);
    let renamed = online.update_machine(&c).await.unwrap();
    assert_eq!(renamed.machine_name, "P-1 renamed");
    assert_eq!(renamed.efficiency, first);
}
