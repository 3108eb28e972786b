//! The plan's shape: which writes share a statement, and which must stay apart.

use chrono::Utc;
use uuid::Uuid;

use super::{plan, Phase, Step};
use crate::domain::{CreateMachine, DeleteMachine, MachineInput, SetMachineStatus, UpdateMachine};
use crate::sync::{OutboxEntry, QueuedWrite};

fn entry(seq: i64, write: QueuedWrite) -> OutboxEntry {
    OutboxEntry {
        seq,
        write,
        attempts: 0,
        queued_at: Utc::now(),
        conflict: None,
    }
}

fn machine(uid: Uuid) -> MachineInput {
    MachineInput {
        machine_name: format!("M-{uid}"),
        machine_type: "CNC".into(),
        operational_status: "Idle".into(),
        efficiency: Some(50.0),
        last_maintenance: "2026-01-01T00:00:00Z".into(),
    }
}

fn create(uid: Uuid) -> QueuedWrite {
    QueuedWrite::Create(CreateMachine {
        write_id: Uuid::new_v4(),
        uid,
        machine: machine(uid),
    })
}

fn update(uid: Uuid) -> QueuedWrite {
    QueuedWrite::Update(UpdateMachine {
        write_id: Uuid::new_v4(),
        uid,
        expected_version: 1,
        efficiency_seen: None,
        machine: machine(uid),
    })
}

fn status(uid: Uuid) -> QueuedWrite {
    QueuedWrite::SetStatus(SetMachineStatus {
        write_id: Uuid::new_v4(),
        uid,
        status: "Down".into(),
    })
}

fn delete(uid: Uuid) -> QueuedWrite {
    QueuedWrite::Delete(DeleteMachine {
        write_id: Uuid::new_v4(),
        uid,
        expected_version: 1,
    })
}

/// The plan as (kind, seqs) pairs, easy to compare.
fn shape(entries: &[OutboxEntry]) -> Vec<(&'static str, Vec<i64>)> {
    plan(entries)
        .into_iter()
        .map(|step| match step {
            Step::Group(phase, g) => (
                match phase {
                    Phase::Create => "creates",
                    Phase::Update => "updates",
                    Phase::Status => "statuses",
                    Phase::Delete => "deletes",
                },
                g.iter().map(|e| e.seq).collect(),
            ),
            Step::One(e) => ("one", vec![e.seq]),
        })
        .collect()
}

fn uids(n: usize) -> Vec<Uuid> {
    (0..n).map(|_| Uuid::new_v4()).collect()
}

#[test]
fn interleaved_creates_and_status_changes_of_other_machines_become_two_statements() {
    let u = uids(6);
    let entries: Vec<_> = (0..6)
        .map(|i| {
            let write = if i % 2 == 0 {
                create(u[i])
            } else {
                status(u[i])
            };
            entry(i as i64, write)
        })
        .collect();
    assert_eq!(
        shape(&entries),
        [("creates", vec![0, 2, 4]), ("statuses", vec![1, 3, 5])]
    );
}

#[test]
fn a_status_change_of_a_machine_created_earlier_in_the_batch_stays_after_its_create() {
    let u = uids(2);
    let entries = [
        entry(1, create(u[0])),
        entry(2, status(u[0])),
        entry(3, create(u[1])),
        entry(4, status(u[1])),
    ];
    // Creates run first in a segment, so both status changes still follow their creates.
    assert_eq!(
        shape(&entries),
        [("creates", vec![1, 3]), ("statuses", vec![2, 4])]
    );
}

#[test]
fn a_second_change_of_the_same_machine_starts_a_new_segment() {
    let u = uids(3);
    let entries = [
        entry(1, status(u[0])),
        entry(2, create(u[1])),
        entry(3, status(u[0])),
        entry(4, create(u[2])),
    ];
    // Segment 1 is {create 2, status 1}; the second change of u0 (3) opens segment 2.
    assert_eq!(
        shape(&entries),
        [
            ("one", vec![2]),
            ("one", vec![1]),
            ("one", vec![4]),
            ("one", vec![3]),
        ]
    );
}

#[test]
fn a_create_of_a_machine_already_changed_in_the_segment_is_not_moved_before_that_change() {
    let u = uids(1);
    let entries = [entry(1, status(u[0])), entry(2, create(u[0]))];
    assert_eq!(shape(&entries), [("one", vec![1]), ("one", vec![2])]);
}

#[test]
fn edits_status_changes_and_deletes_of_other_machines_share_a_segment_in_phase_order() {
    let u = uids(6);
    let entries = [
        entry(1, delete(u[0])),
        entry(2, create(u[1])),
        entry(3, update(u[2])),
        entry(4, status(u[3])),
        entry(5, delete(u[4])),
        entry(6, update(u[5])),
        entry(7, create(u[0])),
    ];
    // Create 7 reuses a uid deleted earlier in the batch: it must not run before that delete.
    assert_eq!(
        shape(&entries),
        [
            ("one", vec![2]),
            ("updates", vec![3, 6]),
            ("one", vec![4]),
            ("deletes", vec![1, 5]),
            ("one", vec![7]),
        ]
    );
}

#[test]
fn a_machine_s_own_writes_keep_their_order() {
    let u = uids(2);
    let entries = [
        entry(1, create(u[0])),
        entry(2, update(u[0])),
        entry(3, status(u[0])),
        entry(4, delete(u[0])),
        entry(5, update(u[1])),
        entry(6, status(u[1])),
        entry(7, update(u[1])),
    ];
    // Create, edit, status, delete of u0 follow the phase order: one segment. The second edit
    // of u1 comes after its status change, a phase back: a new segment.
    assert_eq!(
        shape(&entries),
        [
            ("one", vec![1]),
            ("updates", vec![2, 5]),
            ("statuses", vec![3, 6]),
            ("one", vec![4]),
            ("one", vec![7]),
        ]
    );
}
