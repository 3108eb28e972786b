//! The outbox has no races: each dangerous moment is reached deterministically (the code is
//! paused there by a test hook) and another write arrives exactly then.

use std::sync::Arc;
use std::time::Duration;

use mes_core::domain::ListQuery;
use mes_core::sync::hooks::{self, Hook};
use mes_core::sync::{
    replay, Enqueued, Outbox, QueuedWrite, SyncedRegistry, WriteOutcome, OUTBOX_IN_USE,
};
use sqlx::PgPool;

use crate::support::*;
use crate::sync::{outbox_path, queued_status};

/// Replay has taken a batch (an offline create) and not yet sent it; the operator edits the same
/// machine. The edit must not be folded into the create being sent (it would be lost: replay
/// sends what it took, then removes the entry).
#[sqlx::test(migrations = "../../migrations")]
async fn a_write_arriving_mid_replay_is_never_folded_into_the_write_in_flight(pool: PgPool) {
    let online = Arc::new(registry(pool.clone()));
    let outbox = Arc::new(Outbox::open(&outbox_path()).await.unwrap());
    let create = create_write(input("NEW-001"));
    outbox
        .enqueue(QueuedWrite::Create(create.clone()))
        .await
        .unwrap();
    let taken = outbox.hooks().pause_at(hooks::REPLAY_TAKEN);
    let replaying = tokio::spawn({
        let (online, outbox) = (online.clone(), outbox.clone());
        async move { replay(&online, &outbox).await }
    });
    taken.reached().await;
    let mut edited = input("NEW-001");
    edited.efficiency = Some(12.5);
    let edit = QueuedWrite::Update(mes_core::domain::UpdateMachine {
        write_id: uuid::Uuid::new_v4(),
        uid: create.uid,
        expected_version: 1,
        efficiency_seen: None,
        machine: edited,
    });
    assert_eq!(outbox.enqueue(edit).await.unwrap(), Enqueued::Appended);
    taken.release();
    let report = replaying.await.unwrap().unwrap();
    assert_eq!((report.applied, report.conflicts), (2, 0), "{report:?}");
    let stored = online.get_machine(create.uid).await.unwrap();
    assert_eq!(stored.efficiency, Some(12.5), "the edit was not lost");
}

/// An online write commits but its answer is lost: it is queued as possibly applied, and a later
/// write of the same machine is not folded into it.
#[sqlx::test(migrations = "../../migrations")]
async fn a_write_whose_online_answer_was_lost_is_never_folded_into(pool: PgPool) {
    let online = Arc::new(registry(pool.clone()));
    let synced = SyncedRegistry::new(online.clone(), Outbox::open(&outbox_path()).await.unwrap());
    synced
        .outbox()
        .hooks()
        .arm(hooks::ONLINE_COMMITTED, Hook::LoseAnswer);
    let create = create_write(input("NEW-001"));
    let submitted = synced
        .submit(QueuedWrite::Create(create.clone()))
        .await
        .unwrap();
    assert!(matches!(submitted.outcome, WriteOutcome::Queued { .. }));
    assert_eq!(recorded(&pool, create.write_id).await, 1, "it did commit");
    let pending = synced.outbox().pending(10).await.unwrap();
    assert_eq!(pending[0].attempts, 1, "queued as already sent");
    // The window still thinks it is offline; the operator edits the machine.
    let mut edited = input("NEW-001");
    edited.efficiency = Some(33.0);
    let edit = mes_core::domain::UpdateMachine {
        write_id: uuid::Uuid::new_v4(),
        uid: create.uid,
        expected_version: 1,
        efficiency_seen: None,
        machine: edited,
    };
    let submitted = synced.submit(QueuedWrite::Update(edit)).await.unwrap();
    assert_eq!(submitted.enqueued, Some(Enqueued::Appended));
    let report = replay(&online, synced.outbox()).await.unwrap();
    assert_eq!((report.applied, report.conflicts), (2, 0), "{report:?}");
    let stored = online.get_machine(create.uid).await.unwrap();
    assert_eq!((stored.efficiency, stored.version), (Some(33.0), 2));
}

/// An online write is under way (committed, answer not yet back) when the operator makes
/// another change to the same machine: the second waits for the first, so the server gets them
/// in the order made.
#[sqlx::test(migrations = "../../migrations")]
async fn a_pcs_writes_reach_the_server_in_the_order_made(pool: PgPool) {
    let online = Arc::new(registry(pool.clone()));
    let machine = create(&online, "CNC-001").await;
    let synced = Arc::new(SyncedRegistry::new(
        online.clone(),
        Outbox::open(&outbox_path()).await.unwrap(),
    ));
    let first = synced.outbox().hooks().pause_at(hooks::ONLINE_COMMITTED);
    let down = tokio::spawn({
        let synced = synced.clone();
        async move {
            synced
                .set_machine_status(status_write(machine.uid, "Down"))
                .await
        }
    });
    first.reached().await;
    let idle = tokio::spawn({
        let synced = synced.clone();
        async move {
            synced
                .set_machine_status(status_write(machine.uid, "Idle"))
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!idle.is_finished(), "the second write waits for the first");
    first.release();
    assert!(matches!(
        down.await.unwrap().unwrap(),
        WriteOutcome::Applied { .. }
    ));
    assert!(matches!(
        idle.await.unwrap().unwrap(),
        WriteOutcome::Applied { .. }
    ));
    let stored = online.get_machine(machine.uid).await.unwrap();
    assert_eq!(
        stored.operational_status.as_str(),
        "Idle",
        "the later write wins"
    );

    // And no online write overtakes a queued one: while a replay batch is out (taken, not yet
    // sent), a new write is queued behind it instead of going online first.
    synced
        .outbox()
        .enqueue(queued_status(machine.uid, "Maintenance"))
        .await
        .unwrap();
    let taken = synced.outbox().hooks().pause_at(hooks::REPLAY_TAKEN);
    let replaying = tokio::spawn({
        let (online, synced) = (online.clone(), synced.clone());
        async move { replay(&online, synced.outbox()).await }
    });
    taken.reached().await;
    let running = synced
        .set_machine_status(status_write(machine.uid, "Running"))
        .await
        .unwrap();
    assert!(
        matches!(running, WriteOutcome::Queued { pending: 2 }),
        "{running:?}"
    );
    taken.release();
    let report = replaying.await.unwrap().unwrap();
    assert_eq!(report.applied, 2);
    let stored = online.get_machine(machine.uid).await.unwrap();
    assert_eq!(stored.operational_status.as_str(), "Running");
}

#[tokio::test]
async fn two_processes_never_share_one_outbox() {
    let path = outbox_path();
    let first = Outbox::open(&path).await.unwrap();
    let second = Outbox::open(&path).await;
    let error = second.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains(OUTBOX_IN_USE), "{error}");
    let id = first.client_id();
    first.close().await;
    let again = Outbox::open(&path).await.unwrap();
    assert_eq!(again.client_id(), id, "the client id is the outbox's, kept");
}

/// A transaction that started before the fingerprint was taken but commits after it: the old
/// fingerprint (newest `updated_at`, which is a transaction's start) missed it.
#[sqlx::test(migrations = "../../migrations")]
async fn the_fleet_fingerprint_sees_a_change_that_commits_late(pool: PgPool) {
    let online = registry(pool.clone());
    let slow = create(&online, "CNC-001").await;
    let quick = create(&online, "CNC-002").await;
    let mut late = pool.begin().await.unwrap();
    sqlx::query("UPDATE machines SET efficiency = 1 WHERE uid = $1")
        .bind(slow.uid)
        .execute(&mut *late)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    online
        .set_machine_status(&status_write(quick.uid, "Down"))
        .await
        .unwrap();
    let before = online.fleet_signature().await.unwrap();
    late.commit().await.unwrap();
    let after = online.fleet_signature().await.unwrap();
    assert_ne!(before, after);
    // Unchanged when nothing changed.
    assert_eq!(after, online.fleet_signature().await.unwrap());
    let page = online.list_machines(&ListQuery::default()).await.unwrap();
    assert_eq!(page.total, 2);
}
