//! Replay's fast path: a batch is planned as a few multi-row statements (all its creates, all
//! its edits, …) instead of one round trip per write, with the same end state as applying the
//! writes in order. Any surprise (a conflict, a machine gone, an error) makes the caller roll
//! back and send fewer writes at a time, down to the one that cannot apply, which then gets
//! its own answer.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{OutboxEntry, QueuedWrite};
use crate::domain::OperationalStatus;
use crate::error::RegistryError;
use crate::repo;

/// How a grouped statement went.
pub(super) enum Grouped {
    /// Every write in the group is now applied (now or before).
    Applied,
    /// Not all of them could apply. `first` is the earliest (in queue order) that did not,
    /// when the server said which; unknown after an error.
    Stopped { first: Option<i64> },
}

/// One statement of a batch's plan.
#[derive(Debug, PartialEq)]
pub(super) enum Step<'a> {
    /// Writes of one kind on distinct machines, as one multi-row statement.
    Group(Phase, Vec<&'a OutboxEntry>),
    /// A write alone in its group of a segment.
    One(&'a OutboxEntry),
}

/// The order in which a segment applies its groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Phase {
    Create,
    Update,
    Status,
    Delete,
}

/// The phase of a write that is grouped; `None` for the maintenance plan's writes and shift
/// entries, which are rare and always sent alone, in their place.
fn phase(write: &QueuedWrite) -> Option<Phase> {
    match write {
        QueuedWrite::Create(_) => Some(Phase::Create),
        QueuedWrite::Update(_) => Some(Phase::Update),
        QueuedWrite::SetStatus(_) => Some(Phase::Status),
        QueuedWrite::Delete(_) => Some(Phase::Delete),
        QueuedWrite::PlanMaintenance(_)
        | QueuedWrite::RecordMaintenance(_)
        | QueuedWrite::RecordShift(_) => None,
    }
}

/// Plans a batch as few statements as possible with the same end state as applying it in order.
///
/// Writes are gathered into segments; a segment applies all its creates, then its edits, then
/// its status changes, then its deletes. So a write is only ever moved past writes on *other*
/// machines, and a machine's own writes keep their order: a segment ends before a write on a
/// machine it already holds a write of the same or a later phase for.
///
/// Writes on different machines interact only through names (unique ignoring case). Two
/// writes taking the same name still collide in any order; the server refuses one and the
/// batch falls back to one by one, where the first in order wins. A name freed by an edit or a
/// delete and taken by a later create is taken too early here; that too fails and falls back.
/// The one reordering that could succeed where the order would fail, an edit taking a name that
/// another edit of the same statement frees, is refused by the statement itself.
pub(super) fn plan(entries: &[OutboxEntry]) -> Vec<Step<'_>> {
    let mut steps = Vec::new();
    let mut segment = Segment::default();
    for entry in entries {
        let Some(phase) = phase(&entry.write) else {
            segment.close(&mut steps);
            steps.push(Step::One(entry));
            continue;
        };
        let uid = entry.write.machine_uid();
        if segment
            .last_phase
            .get(&uid)
            .is_some_and(|last| *last >= phase)
        {
            segment.close(&mut steps);
        }
        segment.last_phase.insert(uid, phase);
        segment.groups[phase as usize].push(entry);
    }
    segment.close(&mut steps);
    steps
}

#[derive(Default)]
struct Segment<'a> {
    /// Indexed by `Phase`.
    groups: [Vec<&'a OutboxEntry>; 4],
    /// The latest phase each machine has a write in, in this segment.
    last_phase: HashMap<Uuid, Phase>,
}

impl<'a> Segment<'a> {
    fn close(&mut self, steps: &mut Vec<Step<'a>>) {
        self.last_phase.clear();
        let [creates, updates, statuses, deletes] = std::mem::take(&mut self.groups);
        let phases = [Phase::Create, Phase::Update, Phase::Status, Phase::Delete];
        for (phase, group) in phases
            .into_iter()
            .zip([creates, updates, statuses, deletes])
        {
            match group.as_slice() {
                [] => {}
                [one] => steps.push(Step::One(one)),
                _ => steps.push(Step::Group(phase, group)),
            }
        }
    }
}

/// Applies a grouped step inside the caller's transaction. A write that does not validate any
/// more stops the step there.
pub(super) async fn apply_step(
    db: &mut PgConnection,
    step: &Step<'_>,
    client: Option<Uuid>,
) -> Result<Grouped, RegistryError> {
    let (phase, group) = match step {
        Step::Group(phase, group) => (phase, group),
        Step::One(entry) => {
            return Ok(Grouped::Stopped {
                first: Some(entry.seq),
            })
        }
    };
    let now = Utc::now();
    // Writes are turned into the statement's rows in order; the first that cannot be stops the
    // step before anything is sent.
    let unfit = |index: usize| {
        Ok(Grouped::Stopped {
            first: Some(group[index].seq),
        })
    };
    let done = match phase {
        Phase::Create => {
            let mut valid = Vec::with_capacity(group.len());
            for (index, entry) in group.iter().enumerate() {
                match &entry.write {
                    QueuedWrite::Create(w) => match w.machine.validate(now) {
                        Ok(machine) => valid.push((w, machine)),
                        Err(_) => return unfit(index),
                    },
                    _ => return unfit(index),
                }
            }
            let writes: Vec<_> = valid
                .iter()
                .map(|(w, machine)| repo::BatchCreate {
                    write_id: w.write_id,
                    uid: w.uid,
                    machine,
                })
                .collect();
            repo::create_machines(db, &writes, client).await
        }
        Phase::Update => {
            let mut valid = Vec::with_capacity(group.len());
            for (index, entry) in group.iter().enumerate() {
                match &entry.write {
                    QueuedWrite::Update(w) => match w.machine.validate(now) {
                        Ok(machine) => valid.push((w, machine)),
                        Err(_) => return unfit(index),
                    },
                    _ => return unfit(index),
                }
            }
            let writes: Vec<_> = valid
                .iter()
                .map(|(w, machine)| repo::BatchUpdate {
                    write_id: w.write_id,
                    uid: w.uid,
                    expected_version: w.expected_version,
                    efficiency_seen: w.efficiency_seen,
                    machine,
                })
                .collect();
            repo::update_machines(db, &writes, client).await
        }
        Phase::Status => {
            let mut writes = Vec::with_capacity(group.len());
            for (index, entry) in group.iter().enumerate() {
                match &entry.write {
                    QueuedWrite::SetStatus(w) => match OperationalStatus::parse(&w.status) {
                        Ok(status) => writes.push(repo::BatchStatus {
                            write_id: w.write_id,
                            uid: w.uid,
                            status,
                        }),
                        Err(_) => return unfit(index),
                    },
                    _ => return unfit(index),
                }
            }
            repo::set_machine_statuses(db, &writes, client).await
        }
        Phase::Delete => {
            let mut writes = Vec::with_capacity(group.len());
            for (index, entry) in group.iter().enumerate() {
                match &entry.write {
                    QueuedWrite::Delete(w) => writes.push(repo::BatchDelete {
                        write_id: w.write_id,
                        uid: w.uid,
                        expected_version: w.expected_version,
                    }),
                    _ => return unfit(index),
                }
            }
            repo::delete_machines(db, &writes, client).await
        }
    };
    match done {
        Ok(done) => {
            let done: HashSet<Uuid> = done.into_iter().collect();
            Ok(
                match group.iter().find(|e| !done.contains(&e.write.write_id())) {
                    None => Grouped::Applied,
                    Some(entry) => Grouped::Stopped {
                        first: Some(entry.seq),
                    },
                },
            )
        }
        // The database away or busy is the caller's transient error; any other error is a
        // write that cannot apply, not known which.
        Err(e) if e.is_transient() => Err(e),
        Err(_) => Ok(Grouped::Stopped { first: None }),
    }
}

#[cfg(test)]
#[path = "grouped_plan_tests.rs"]
mod plan_tests;
