//! Offline entry: the outbox with the database really unreachable, replay, crash safety,
//! conflicts.

use std::path::PathBuf;

use mes_core::domain::{DeleteMachine, OperationalStatus, SetMachineStatus, UpdateMachine};
use std::sync::Arc;

use mes_core::sync::{apply_batch, hooks, replay, BatchOutcome, Conflict, Outbox, QueuedWrite};
use mes_core::{DatabaseConfig, Registry};
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::*;

pub fn outbox_path() -> PathBuf {
    std::env::temp_dir().join(format!("mes-outbox-test-{}.sqlite3", Uuid::new_v4()))
}

pub fn unreachable() -> Registry {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://op:pw@127.0.0.1:{port}/mes");
    Registry::connect_lazy(
        &DatabaseConfig::from_url(&url, mes_core::config::ConfigSource::Environment, "t").unwrap(),
    )
}

fn queued_update(machine: &mes_core::domain::Machine, efficiency: f64) -> QueuedWrite {
    let mut input = input(&machine.machine_name);
    input.efficiency = Some(efficiency);
    QueuedWrite::Update(UpdateMachine {
        write_id: Uuid::new_v4(),
        uid: machine.uid,
        expected_version: machine.version,
        efficiency_seen: None,
        machine: input,
    })
}

pub fn queued_status(uid: Uuid, status: &str) -> QueuedWrite {
    QueuedWrite::SetStatus(SetMachineStatus {
        write_id: Uuid::new_v4(),
        uid,
        status: status.into(),
    })
}

fn queued_delete(machine: &mes_core::domain::Machine) -> QueuedWrite {
    QueuedWrite::Delete(DeleteMachine {
        write_id: Uuid::new_v4(),
        uid: machine.uid,
        expected_version: machine.version,
    })
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn writes_of_every_kind_wait_while_unreachable_then_apply_once(pool: PgPool) {
    let online = registry(pool.clone());
    let edited = create(&online, "CNC-001").await;
    let doomed = create(&online, "CNC-002").await;
    let toggled = create(&online, "CNC-003").await;
    let path = outbox_path();
    let outbox = Outbox::open(&path).await.unwrap();
    let created = create_write(input("NEW-001"));
    outbox
        .enqueue(QueuedWrite::Create(created.clone()))
        .await
        .unwrap();
    outbox.enqueue(queued_update(&edited, 33.0)).await.unwrap();
    outbox
        .enqueue(queued_status(toggled.uid, "Maintenance"))
        .await
        .unwrap();
    outbox
        .enqueue(queued_status(doomed.uid, "Down"))
        .await
        .unwrap();
    outbox.enqueue(queued_delete(&doomed)).await.unwrap();
    // The delete supersedes the unsent status change of the same machine.
    assert_eq!(outbox.pending_count().await.unwrap(), 4);

    let offline = unreachable();
    let report = replay(&offline, &outbox).await.unwrap();
    assert!(report.interrupted.is_some());
    assert_eq!((report.applied, report.conflicts), (0, 0));
    assert_eq!(
        outbox.pending_count().await.unwrap(),
        4,
        "nothing lost while away"
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM machines").await,
        3,
        "nothing applied while away"
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM applied_writes").await,
        3,
        "only the online creates"
    );

    let report = replay(&online, &outbox).await.unwrap();
    assert_eq!(
        (report.applied, report.conflicts, report.interrupted),
        (4, 0, None)
    );
    assert_eq!(outbox.pending_count().await.unwrap(), 0);
    assert_eq!(
        online.get_machine(created.uid).await.unwrap().machine_name,
        "NEW-001"
    );
    let after = online.get_machine(edited.uid).await.unwrap();
    assert_eq!(
        (after.efficiency, after.version),
        (Some(33.0), edited.version + 1)
    );
    let status = online.get_machine(toggled.uid).await.unwrap();
    assert_eq!(
        (status.operational_status, status.version),
        (OperationalStatus::Maintenance, 2)
    );
    assert!(online.get_machine(doomed.uid).await.is_err());
    let again = replay(&online, &outbox).await.unwrap();
    assert_eq!(again.applied, 0);
    assert_eq!(count(&pool, "SELECT count(*) FROM machines").await, 3);
    let _ = std::fs::remove_file(path);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_crash_between_server_commit_and_outbox_removal_applies_nothing_twice(pool: PgPool) {
    let online = registry(pool.clone());
    let edited = create(&online, "CNC-001").await;
    let toggled = create(&online, "CNC-002").await;
    let doomed = create(&online, "CNC-003").await;
    let path = outbox_path();
    {
        let outbox = Arc::new(Outbox::open(&path).await.unwrap());
        outbox
            .enqueue(QueuedWrite::Create(create_write(input("NEW-001"))))
            .await
            .unwrap();
        outbox.enqueue(queued_update(&edited, 12.5)).await.unwrap();
        outbox
            .enqueue(queued_status(toggled.uid, "Idle"))
            .await
            .unwrap();
        outbox.enqueue(queued_delete(&doomed)).await.unwrap();
        // A real replay, stopped dead right after the server's commit, before the outbox
        // removes the writes: the task is aborted there, as a kill would end it.
        let committed = outbox.hooks().pause_at(hooks::REPLAY_COMMITTED);
        let registry = Arc::new(registry(pool.clone()));
        let replaying = tokio::spawn({
            let outbox = outbox.clone();
            async move { replay(&registry, &outbox).await }
        });
        committed.reached().await;
        assert_eq!(
            count(
                &pool,
                "SELECT count(*) FROM machines WHERE machine_name = 'NEW-001'"
            )
            .await,
            1,
            "the server has committed"
        );
        replaying.abort();
        assert!(replaying.await.unwrap_err().is_cancelled());
        // The process is gone: its outbox closes with it.
        Arc::try_unwrap(outbox).ok().unwrap().close().await;
    }
    let outbox = Outbox::open(&path).await.unwrap();
    assert_eq!(
        outbox.pending_count().await.unwrap(),
        4,
        "the outbox survived the crash"
    );
    let report = replay(&online, &outbox).await.unwrap();
    assert_eq!(
        (report.applied, report.conflicts),
        (4, 0),
        "recognised as applied, not conflicts"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM machines WHERE machine_name = 'NEW-001'"
        )
        .await,
        1
    );
    assert_eq!(
        online.get_machine(edited.uid).await.unwrap().version,
        edited.version + 1
    );
    assert_eq!(
        online.get_machine(toggled.uid).await.unwrap().version,
        toggled.version + 1
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM applied_writes").await,
        3 + 4
    );
    let _ = std::fs::remove_file(path);
}

#[sqlx::test(migrations = "../../migrations")]
async fn conflicts_need_attention_and_never_block_the_other_writes(pool: PgPool) {
    let online = registry(pool.clone());
    let changed = create(&online, "CNC-001").await;
    let deleted = create(&online, "CNC-002").await;
    let fine = create(&online, "CNC-003").await;
    let path = outbox_path();
    let outbox = Outbox::open(&path).await.unwrap();
    outbox
        .enqueue(QueuedWrite::Create(create_write(input("DUP-1"))))
        .await
        .unwrap();
    outbox
        .enqueue(queued_status(fine.uid, "Maintenance"))
        .await
        .unwrap();
    outbox.enqueue(queued_update(&changed, 40.0)).await.unwrap();
    outbox
        .enqueue(QueuedWrite::Create(create_write(input("NEW-OK"))))
        .await
        .unwrap();
    outbox
        .enqueue(queued_status(deleted.uid, "Down"))
        .await
        .unwrap();

    // Meanwhile, other operators: take the name, change one machine, delete another.
    create(&online, "dup-1").await;
    let theirs = online
        .set_machine_status(&status_write(changed.uid, "Idle"))
        .await
        .unwrap();
    online
        .delete_machine(&delete_write(&deleted))
        .await
        .unwrap();

    let report = replay(&online, &outbox).await.unwrap();
    assert_eq!(
        (report.applied, report.conflicts, report.interrupted),
        (2, 3, None)
    );
    assert_eq!(
        online
            .get_machine(fine.uid)
            .await
            .unwrap()
            .operational_status,
        OperationalStatus::Maintenance
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM machines WHERE machine_name = 'NEW-OK'"
        )
        .await,
        1
    );
    assert_eq!(outbox.pending_count().await.unwrap(), 0);

    let attention = outbox.needs_attention().await.unwrap();
    let conflicts: Vec<&Conflict> = attention
        .iter()
        .filter_map(|e| e.conflict.as_ref())
        .collect();
    assert_eq!(
        conflicts[0],
        &Conflict::NameTaken {
            name: "DUP-1".into()
        }
    );
    assert_eq!(
        conflicts[1],
        &Conflict::ChangedSince {
            expected: changed.version,
            current: theirs.clone()
        }
    );
    assert_eq!(conflicts[2], &Conflict::MachineDeleted);
    // Both versions are at hand: ours is the queued write itself.
    assert!(
        matches!(&attention[1].write, QueuedWrite::Update(u) if u.machine.efficiency == Some(40.0))
    );

    // The operator retries the edit on top of their version, and discards the others.
    let retried = queued_update(&theirs, 40.0);
    assert!(outbox.retry(attention[1].seq, retried).await.unwrap());
    assert!(outbox.discard(attention[0].seq).await.unwrap());
    assert!(outbox.discard(attention[2].seq).await.unwrap());
    let report = replay(&online, &outbox).await.unwrap();
    assert_eq!((report.applied, report.conflicts), (1, 0));
    assert_eq!(
        online.get_machine(changed.uid).await.unwrap().efficiency,
        Some(40.0)
    );
    assert!(outbox.needs_attention().await.unwrap().is_empty());
    // Only writes that needed attention can be discarded.
    outbox
        .enqueue(queued_status(fine.uid, "Down"))
        .await
        .unwrap();
    let pending = outbox.pending(10).await.unwrap();
    assert!(!outbox.discard(pending[0].seq).await.unwrap());
    let _ = std::fs::remove_file(path);
}

#[sqlx::test(migrations = "../../migrations")]
async fn offline_edits_of_an_offline_machine_fold_into_its_create(pool: PgPool) {
    let online = registry(pool.clone());
    let path = outbox_path();
    let outbox = Outbox::open(&path).await.unwrap();
    let create = create_write(input("NEW-001"));
    outbox
        .enqueue(QueuedWrite::Create(create.clone()))
        .await
        .unwrap();
    let mut edit = input("NEW-001b");
    edit.efficiency = Some(77.0);
    outbox
        .enqueue(QueuedWrite::Update(UpdateMachine {
            write_id: Uuid::new_v4(),
            uid: create.uid,
            expected_version: 1,
            efficiency_seen: None,
            machine: edit,
        }))
        .await
        .unwrap();
    outbox
        .enqueue(queued_status(create.uid, "Down"))
        .await
        .unwrap();
    assert_eq!(outbox.pending_count().await.unwrap(), 1);
    replay(&online, &outbox).await.unwrap();
    let stored = online.get_machine(create.uid).await.unwrap();
    assert_eq!(
        (
            stored.machine_name.as_str(),
            stored.efficiency,
            stored.operational_status,
            stored.version
        ),
        ("NEW-001b", Some(77.0), OperationalStatus::Down, 1)
    );

    // Created and deleted while offline: nothing reaches the server.
    let ghost = create_write(input("GHOST"));
    outbox
        .enqueue(QueuedWrite::Create(ghost.clone()))
        .await
        .unwrap();
    let mut ghost_machine = stored.clone();
    ghost_machine.uid = ghost.uid;
    outbox.enqueue(queued_delete(&ghost_machine)).await.unwrap();
    assert_eq!(outbox.pending_count().await.unwrap(), 0);
    let _ = std::fs::remove_file(path);
}

#[sqlx::test(migrations = "../../migrations")]
async fn runs_of_creates_and_status_changes_go_as_one_statement_with_the_same_guarantees(
    pool: PgPool,
) {
    let online = registry(pool.clone());
    let machines: Vec<_> = create_fleet(&online, 6).await;
    let path = outbox_path();
    let outbox = Outbox::open(&path).await.unwrap();
    for i in 0..5 {
        outbox
            .enqueue(QueuedWrite::Create(create_write(input(&format!(
                "RUN-{i}"
            )))))
            .await
            .unwrap();
    }
    for machine in &machines {
        outbox
            .enqueue(queued_status(machine.uid, "Idle"))
            .await
            .unwrap();
    }
    // A crash after an earlier delivery of one create and one status change: recognised.
    let entries = outbox.take(100).await.unwrap();
    assert_eq!(
        apply_batch(&online, &[entries[2].clone()]).await.unwrap(),
        BatchOutcome::Committed
    );
    assert_eq!(
        apply_batch(&online, &[entries[7].clone()]).await.unwrap(),
        BatchOutcome::Committed
    );
    let report = replay(&online, &outbox).await.unwrap();
    assert_eq!((report.applied, report.conflicts), (11, 0));
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM machines WHERE machine_name LIKE 'RUN-%'"
        )
        .await,
        5
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM machines WHERE operational_status = 'Idle'"
        )
        .await,
        6
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM machines WHERE machine_name LIKE 'M-%' AND version = 2"
        )
        .await,
        6,
        "each status change applied exactly once"
    );

    // Inside runs: a name taken meanwhile and a machine deleted meanwhile.
    for i in 0..3 {
        outbox
            .enqueue(QueuedWrite::Create(create_write(input(&format!(
                "LATE-{i}"
            )))))
            .await
            .unwrap();
    }
    for machine in &machines[..3] {
        outbox
            .enqueue(queued_status(machine.uid, "Down"))
            .await
            .unwrap();
    }
    create(&online, "late-1").await;
    let gone = online.get_machine(machines[1].uid).await.unwrap();
    online.delete_machine(&delete_write(&gone)).await.unwrap();
    let report = replay(&online, &outbox).await.unwrap();
    assert_eq!((report.applied, report.conflicts), (4, 2));
    let conflicts: Vec<Conflict> = outbox
        .needs_attention()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| e.conflict)
        .collect();
    assert_eq!(
        conflicts,
        [
            Conflict::NameTaken {
                name: "LATE-1".into()
            },
            Conflict::MachineDeleted
        ]
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM machines WHERE operational_status = 'Down'"
        )
        .await,
        2
    );
    let _ = std::fs::remove_file(path);
}

async fn create_fleet(registry: &Registry, n: usize) -> Vec<mes_core::domain::Machine> {
    let mut machines = Vec::new();
    for i in 0..n {
        machines.push(create(registry, &format!("M-{i}")).await);
    }
    machines
}

/// Two status changes never sent are one (the later); a delete of a machine whose create was
/// refused (name taken) drops the create too, so no later retry brings a deleted machine back.
#[sqlx::test(migrations = "../../migrations")]
async fn unsent_status_changes_fold_and_a_delete_cancels_a_refused_create(pool: PgPool) {
    use mes_core::sync::Enqueued;
    let online = registry(pool.clone());
    let machine = create(&online, "CNC-001").await;
    let outbox = Outbox::open(&outbox_path()).await.unwrap();
    let first = queued_status(machine.uid, "Down");
    assert_eq!(
        outbox.enqueue(first.clone()).await.unwrap(),
        Enqueued::Appended
    );
    assert_eq!(
        outbox
            .enqueue(queued_status(machine.uid, "Idle"))
            .await
            .unwrap(),
        Enqueued::FoldedInto {
            into: first.write_id()
        }
    );
    let taken = create_write(input("cnc-001"));
    outbox
        .enqueue(QueuedWrite::Create(taken.clone()))
        .await
        .unwrap();
    let report = replay(&online, &outbox).await.unwrap();
    assert_eq!((report.applied, report.conflicts), (1, 1));
    assert_eq!(
        online
            .get_machine(machine.uid)
            .await
            .unwrap()
            .operational_status,
        OperationalStatus::Idle
    );
    let delete = QueuedWrite::Delete(DeleteMachine {
        write_id: Uuid::new_v4(),
        uid: taken.uid,
        expected_version: 1,
    });
    assert_eq!(
        outbox.enqueue(delete).await.unwrap(),
        Enqueued::Cancelled {
            dropped: vec![taken.write_id]
        }
    );
    assert!(outbox.needs_attention().await.unwrap().is_empty());
    assert_eq!(outbox.pending_count().await.unwrap(), 0);
}

/// The outbox holds the plant's pending changes: a folder made for it is the user's alone, and
/// so are its files; a shared folder it is put in is left as it is.
#[cfg(unix)]
#[tokio::test]
async fn the_outbox_is_readable_by_its_user_only() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = std::env::temp_dir().join(format!("mes-private-{}", Uuid::new_v4()));
    let path = dir.join("data").join("outbox.sqlite3");
    let outbox = Outbox::open(&path).await.unwrap();
    assert_eq!(mode(&dir.join("data")), 0o700);
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&dir.join("data").join("outbox-cache.sqlite3")), 0o600);
    outbox.close().await;
    let shared = std::env::temp_dir();
    let before = mode(&shared);
    let elsewhere = Outbox::open(&outbox_path()).await.unwrap();
    assert_eq!(
        mode(&shared),
        before,
        "a shared folder is not ours to change"
    );
    elsewhere.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
