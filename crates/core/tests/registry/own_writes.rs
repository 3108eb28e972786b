//! An operator's own writes never conflict with each other: every pair of write kinds on one
//! machine (and the longer sequences), online with a stale version on screen, offline, across a
//! restart, and after a write whose online answer was lost. The rule: a write based on version v
//! applies when every change since v was made by the same client (`applied_writes.client_id`);
//! a change by anyone else in between is still a conflict.

use std::sync::Arc;
use std::time::Duration;

use mes_core::domain::{
    CreateMachine, DeleteMachine, Machine, MachineInput, SetMachineStatus, UpdateMachine,
};
use mes_core::sync::hooks::{self, Hook};
use mes_core::sync::{replay, Conflict, Outbox, QueuedWrite, SyncedRegistry};
use mes_core::{Registry, RegistryError};
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::*;
use crate::sync::outbox_path;

#[derive(Debug, Clone, Copy)]
enum Step {
    Create,
    Status(&'static str),
    Edit(f64),
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// Each write applied online at once; the edit or delete carries the version shown before the
    /// sequence began (a window that has not reloaded yet).
    Online,
    /// All queued while the database is away, then replayed.
    Offline,
    /// Queued, the app restarted (a new outbox handle), then replayed.
    Restart,
    /// The first write's online answer is lost after its commit (queued as possibly sent,
    /// never folded into), the rest queued behind it.
    LostAnswer,
}

const SEQUENCES: &[&[Step]] = &[
    &[Step::Status("Down"), Step::Status("Idle")],
    &[Step::Status("Down"), Step::Edit(11.0)],
    &[Step::Status("Down"), Step::Delete],
    &[Step::Edit(12.0), Step::Status("Maintenance")],
    &[Step::Edit(13.0), Step::Edit(14.0)],
    &[Step::Edit(15.0), Step::Delete],
    &[Step::Edit(16.0), Step::Status("Down"), Step::Delete],
    &[Step::Create, Step::Status("Down")],
    &[Step::Create, Step::Edit(17.0)],
    &[Step::Create, Step::Delete],
    &[
        Step::Create,
        Step::Status("Maintenance"),
        Step::Edit(18.0),
        Step::Delete,
    ],
    &[
        Step::Status("Idle"),
        Step::Edit(19.0),
        Step::Status("Down"),
        Step::Edit(20.0),
    ],
];

/// What the operator expects: each step applied in order to what the window shows.
#[derive(Debug, Clone, PartialEq)]
struct Expected {
    status: String,
    efficiency: f64,
    exists: bool,
}

fn machine_input(name: &str, status: &str, efficiency: f64) -> MachineInput {
    let mut machine = input(name);
    machine.operational_status = status.into();
    machine.efficiency = Some(efficiency);
    machine
}

/// The writes a window would send for `steps` on the machine `name` (existing at `base`, or
/// created by the first step): edits and deletes carry the version the window showed before the
/// sequence (for a machine created offline, version 1), and an edit carries the status shown.
fn writes_for(name: &str, uid: Uuid, base: i64, steps: &[Step]) -> (Vec<QueuedWrite>, Expected) {
    let mut expected = Expected {
        status: "Running".into(),
        efficiency: 85.5,
        exists: true,
    };
    let writes = steps
        .iter()
        .map(|step| match *step {
            Step::Create => QueuedWrite::Create(CreateMachine {
                write_id: Uuid::new_v4(),
                uid,
                machine: machine_input(name, &expected.status, expected.efficiency),
            }),
            Step::Status(status) => {
                expected.status = status.into();
                QueuedWrite::SetStatus(SetMachineStatus {
                    write_id: Uuid::new_v4(),
                    uid,
                    status: status.into(),
                })
            }
            Step::Edit(efficiency) => {
                expected.efficiency = efficiency;
                QueuedWrite::Update(UpdateMachine {
                    write_id: Uuid::new_v4(),
                    uid,
                    expected_version: base,
                    efficiency_seen: None,
                    machine: machine_input(name, &expected.status, efficiency),
                })
            }
            Step::Delete => {
                expected.exists = false;
                QueuedWrite::Delete(DeleteMachine {
                    write_id: Uuid::new_v4(),
                    uid,
                    expected_version: base,
                })
            }
        })
        .collect();
    (writes, expected)
}

async fn check(online: &Registry, uid: Uuid, expected: &Expected, what: &str) {
    match online.get_machine(uid).await {
        Ok(machine) => {
            assert!(expected.exists, "{what}: still exists");
            assert_eq!(
                (machine.operational_status.as_str(), machine.efficiency),
                (expected.status.as_str(), Some(expected.efficiency)),
                "{what}"
            );
        }
        Err(RegistryError::NotFound { .. }) => assert!(!expected.exists, "{what}: gone"),
        Err(e) => panic!("{what}: {e}"),
    }
}

async fn run_all(pool: PgPool, mode: Mode) {
    let online = registry(pool.clone());
    let (proxy, remote) = behind_proxy(&pool, Duration::from_secs(1)).await;
    let path = outbox_path();
    let mut synced = Some(Arc::new(SyncedRegistry::new(
        remote.clone(),
        Outbox::open(&path).await.unwrap(),
    )));
    for (n, steps) in SEQUENCES.iter().enumerate() {
        let name = format!("OWN-{n:02}");
        let what = format!("{mode:?} {steps:?}");
        let (uid, base) = if matches!(steps[0], Step::Create) {
            (Uuid::new_v4(), 1)
        } else {
            let machine: Machine = create(&online, &name).await;
            (machine.uid, machine.version)
        };
        let (writes, expected) = writes_for(&name, uid, base, steps);
        let current = synced.clone().unwrap();
        if mode != Mode::Online {
            proxy.down();
        }
        for (i, write) in writes.into_iter().enumerate() {
            if mode == Mode::LostAnswer && i == 0 {
                proxy.up();
                current
                    .outbox()
                    .hooks()
                    .arm(hooks::ONLINE_COMMITTED, Hook::LoseAnswer);
                // Online until then: the answer is lost after the commit.
                mark_online(&current).await;
            }
            let submitted = current.submit(write).await;
            assert!(submitted.is_ok(), "{what}: {submitted:?}");
            if mode == Mode::LostAnswer && i == 0 {
                proxy.down();
            }
        }
        drop(current);
        if mode == Mode::Restart {
            // The app ends (its outbox with it) and starts again on the same outbox file.
            drop(synced.take());
            synced = Some(Arc::new(SyncedRegistry::new(
                remote.clone(),
                reopen(&path).await,
            )));
        }
        proxy.up();
        let current = synced.clone().unwrap();
        remote.db().note::<()>(Ok(())).unwrap();
        let report = replay(&remote, current.outbox()).await.unwrap();
        assert_eq!(report.conflicts, 0, "{what}: {report:?}");
        assert!(report.interrupted.is_none(), "{what}: {report:?}");
        assert!(
            current.outbox().needs_attention().await.unwrap().is_empty(),
            "{what}"
        );
        assert_eq!(current.outbox().pending_count().await.unwrap(), 0, "{what}");
        check(&online, uid, &expected, &what).await;
        // Bring the registry back to "online" for the next sequence.
        mark_online(&current).await;
    }
}

/// Lets the registry find the database again at once (a check by the worker would).
async fn mark_online(synced: &SyncedRegistry) {
    for _ in 0..250 {
        if synced.check_connection().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the database did not come back");
}

async fn reopen(path: &std::path::Path) -> Outbox {
    for _ in 0..500 {
        if let Ok(outbox) = Outbox::open(path).await {
            return outbox;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the outbox stayed locked")
}

#[sqlx::test(migrations = "../../migrations")]
async fn own_writes_online_with_a_stale_version_on_screen(pool: PgPool) {
    run_all(pool, Mode::Online).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn own_writes_offline(pool: PgPool) {
    run_all(pool, Mode::Offline).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn own_writes_offline_across_a_restart(pool: PgPool) {
    run_all(pool, Mode::Restart).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn own_writes_after_an_answer_lost_online(pool: PgPool) {
    run_all(pool, Mode::LostAnswer).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_change_by_anyone_else_in_between_is_still_a_conflict(pool: PgPool) {
    let online = registry(pool.clone());
    let machine = create(&online, "CNC-001").await;
    let path = outbox_path();
    let outbox = Outbox::open(&path).await.unwrap();
    let mine = Registry::from_pool(pool.clone(), online.target().clone());
    mine.set_client(outbox.client_id());
    // My status change, then another tool's change, then my edit based on what I saw.
    mine.set_machine_status(&status_write(machine.uid, "Down"))
        .await
        .unwrap();
    sqlx::query("UPDATE machines SET efficiency = 1 WHERE uid = $1")
        .bind(machine.uid)
        .execute(&pool)
        .await
        .unwrap();
    let edit = update_write(&machine, input("CNC-001"));
    assert!(matches!(
        mine.update_machine(&edit).await,
        Err(RegistryError::StaleVersion { expected: 1, .. })
    ));
    // The same through the outbox: it needs attention, as changed by someone else.
    let (_, remote) = (0, std::sync::Arc::new(mine));
    outbox
        .enqueue(QueuedWrite::Delete(delete_write(&machine)))
        .await
        .unwrap();
    let report = replay(&remote, &outbox).await.unwrap();
    assert_eq!(report.conflicts, 1);
    let attention = outbox.needs_attention().await.unwrap();
    assert!(matches!(
        attention[0].conflict,
        Some(Conflict::ChangedSince { expected: 1, .. })
    ));
    // Another PC's writes (another client) conflict as well.
    let other = Registry::from_pool(pool.clone(), online.target().clone());
    other.set_client(Uuid::new_v4());
    let current = online.get_machine(machine.uid).await.unwrap();
    other
        .set_machine_status(&status_write(machine.uid, "Idle"))
        .await
        .unwrap();
    let mut edit = update_write(&current, input("CNC-001"));
    edit.machine.efficiency = Some(3.0);
    assert!(matches!(
        remote.update_machine(&edit).await,
        Err(RegistryError::StaleVersion { .. })
    ));
}
