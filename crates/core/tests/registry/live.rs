//! Live updates against a real PostgreSQL: a change by a plain SQL client reaches the app
//! within a second and its offline copy follows; a listener whose connection is killed listens
//! again by itself and asks the window to reload (changes may have been missed meanwhile).

use std::sync::Arc;
use std::time::{Duration, Instant};

use mes_core::sync::{ChangeKind, MachineChange, Outbox, SyncedRegistry};
use sqlx::PgPool;
use tokio::sync::mpsc;

use crate::support::*;
use crate::sync::outbox_path;

async fn next_change(
    changes: &mut mpsc::UnboundedReceiver<Vec<MachineChange>>,
    wanted: impl Fn(&MachineChange) -> bool,
) -> MachineChange {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let batch = tokio::time::timeout(left, changes.recv())
            .await
            .expect("a change within 10 s")
            .expect("the listener is there");
        if let Some(change) = batch.into_iter().find(|c| wanted(c)) {
            return change;
        }
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn changes_by_anyone_arrive_live_and_the_copy_follows(pool: PgPool) {
    let synced = Arc::new(SyncedRegistry::new(
        Arc::new(registry(pool.clone())),
        Outbox::open(&outbox_path()).await.unwrap(),
    ));
    let cnc = create(synced.registry(), "CNC-001").await;
    let rob = create(synced.registry(), "ROB-002").await;
    let (tell, mut changes) = mpsc::unbounded_channel();
    synced.set_live_listener(Arc::new(move |batch: &[MachineChange]| {
        let _ = tell.send(batch.to_vec());
    }));
    let worker = tokio::spawn(synced.clone().run(|_| {}));
    eventually(10, "listening", || async { synced.live() }).await;
    next_change(&mut changes, |c| c.kind == ChangeKind::Resync).await;

    // A plain SQL client's change: announced within a second, in the offline copy too.
    let sent = Instant::now();
    sqlx::query("UPDATE machines SET operational_status = 'Down' WHERE machine_name = 'CNC-001'")
        .execute(&pool)
        .await
        .unwrap();
    let change = next_change(&mut changes, |c| c.uid == Some(cnc.uid)).await;
    assert!(
        sent.elapsed() < Duration::from_secs(1),
        "{:?}",
        sent.elapsed()
    );
    assert_eq!(
        (change.kind, change.version),
        (ChangeKind::Update, Some(cnc.version + 1))
    );
    let copy = synced.outbox().fleet_copy().await.unwrap().expect("a copy");
    assert_eq!(
        copy.get(cnc.uid).unwrap().operational_status.as_str(),
        "Down"
    );

    // The listening connection is killed: it listens again by itself and asks for a reload.
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE pid <> pg_backend_pid() AND datname = current_database() AND query ILIKE 'LISTEN%'",
    )
    .execute(&pool)
    .await
    .unwrap();
    next_change(&mut changes, |c| c.kind == ChangeKind::Resync).await;
    eventually(10, "listening again", || async { synced.live() }).await;

    // A delete by another tool leaves the copy.
    sqlx::query("DELETE FROM machines WHERE machine_name = 'ROB-002'")
        .execute(&pool)
        .await
        .unwrap();
    let change = next_change(&mut changes, |c| c.uid == Some(rob.uid)).await;
    assert_eq!(change.kind, ChangeKind::Delete);
    let copy = synced.outbox().fleet_copy().await.unwrap().expect("a copy");
    assert!(copy.get(rob.uid).is_none());

    // Anyone may NOTIFY the channel: a forged delete makes the app look, not forget.
    let forged = format!(
        r#"{{"uid": "{}", "kind": "delete", "version": 99}}"#,
        cnc.uid
    );
    sqlx::query("SELECT pg_notify('mes_machines', $1)")
        .bind(&forged)
        .execute(&pool)
        .await
        .unwrap();
    next_change(&mut changes, |c| c.uid == Some(cnc.uid)).await;
    let copy = synced.outbox().fleet_copy().await.unwrap().expect("a copy");
    assert!(
        copy.get(cnc.uid).is_some(),
        "a forged delete removes nothing"
    );

    // A bulk change of 1,000 machines in one statement: one resync, and the copy has them all.
    sqlx::query(
        "INSERT INTO machines (machine_name, machine_type, operational_status, efficiency, last_maintenance)
         SELECT 'BULK-' || g, 'Press', 'Idle', 50, now() FROM generate_series(1, 1000) g",
    )
    .execute(&pool)
    .await
    .unwrap();
    next_change(&mut changes, |c| c.kind == ChangeKind::Resync).await;
    eventually(10, "the copy has the bulk", || async {
        synced
            .outbox()
            .fleet_copy()
            .await
            .unwrap()
            .is_some_and(|copy| copy.machines.len() == 1001)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    while let Ok(batch) = changes.try_recv() {
        assert!(
            batch.len() <= 500,
            "no oversized batch told: {}",
            batch.len()
        );
    }

    // TRUNCATE by another tool: a resync, and the copy is empty.
    sqlx::query("TRUNCATE machines")
        .execute(&pool)
        .await
        .unwrap();
    next_change(&mut changes, |c| c.kind == ChangeKind::Resync).await;
    let copy = synced.outbox().fleet_copy().await.unwrap().expect("a copy");
    assert!(copy.machines.is_empty());

    synced.shutdown(Some(worker), Duration::from_secs(5)).await;
}
