//! Replay's grouped statements: a batch planned as multi-row statements ends exactly as its
//! writes applied one by one, in order.

use mes_core::domain::{DeleteMachine, MachineInput, UpdateMachine};
use mes_core::sync::{apply_batch, replay, BatchOutcome, Conflict, Outbox, QueuedWrite};
use mes_core::Registry;
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::*;
use crate::sync::{outbox_path, queued_status};

/// What the client knows of a machine when it queues a write: its values and version.
struct Known {
    uid: Uuid,
    input: MachineInput,
    version: i64,
}

/// Queues a fixed pseudo-random mix of every write kind on the machines named `prefix…`:
/// creates, edits (some renaming), status changes (some on machines created just before) and
/// deletes, each based on the version the server will have by then. Every write is marked as
/// sent once, as after an interrupted attempt, so none is folded into another and the batch
/// holds machines' successive writes.
///
/// With `conflicts`, some writes cannot apply: every 7th edit is based on a version that never
/// existed, and every 9th create takes a name already in use.
async fn queue_mix(online: &Registry, outbox: &Outbox, prefix: &str, conflicts: bool) -> usize {
    let mut alive = Vec::new();
    for i in 0..40 {
        let machine = create(online, &format!("{prefix}OLD-{i:02}")).await;
        alive.push(Known {
            uid: machine.uid,
            input: input(&machine.machine_name),
            version: machine.version,
        });
    }
    let mut seed: u32 = 11;
    let mut queued = 0;
    for i in 0..200 {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let pick = (seed >> 16) as usize;
        let status = ["Running", "Idle", "Maintenance", "Down"][pick % 4];
        let write = match pick % 6 {
            0 if conflicts && i % 9 == 0 => {
                QueuedWrite::Create(create_write(input(&format!("{prefix}OLD-{:02}", i % 40))))
            }
            0 => {
                let write = create_write(input(&format!("{prefix}NEW-{i:03}")));
                alive.push(Known {
                    uid: write.uid,
                    input: write.machine.clone(),
                    version: 1,
                });
                QueuedWrite::Create(write)
            }
            1 | 2 => {
                // Mostly a recent machine, so that a machine's writes meet inside a segment.
                let index = if pick % 6 == 1 {
                    alive.len() - 1 - pick % 3
                } else {
                    pick % alive.len()
                };
                let known = &mut alive[index];
                if known.input.operational_status != status {
                    known.input.operational_status = status.into();
                    known.version += 1;
                }
                queued_status(known.uid, status)
            }
            3 | 4 if conflicts && i % 7 == 0 => {
                let known = &alive[pick % alive.len()];
                QueuedWrite::Update(UpdateMachine {
                    write_id: Uuid::new_v4(),
                    uid: known.uid,
                    expected_version: known.version + 100,
                    efficiency_seen: None,
                    machine: known.input.clone(),
                })
            }
            3 | 4 => {
                let index = pick % alive.len();
                let known = &mut alive[index];
                let mut edited = known.input.clone();
                edited.efficiency = Some((edited.efficiency.unwrap_or(0.0) + 7.0) % 100.0);
                if pick.is_multiple_of(2) {
                    edited.machine_name = format!("{prefix}REN-{i:03}");
                }
                let write = QueuedWrite::Update(UpdateMachine {
                    write_id: Uuid::new_v4(),
                    uid: known.uid,
                    expected_version: known.version,
                    efficiency_seen: None,
                    machine: edited.clone(),
                });
                known.input = edited;
                known.version += 1;
                write
            }
            _ if alive.len() > 20 => {
                let known = alive.remove(pick % alive.len());
                QueuedWrite::Delete(DeleteMachine {
                    write_id: Uuid::new_v4(),
                    uid: known.uid,
                    expected_version: known.version,
                })
            }
            _ => continue,
        };
        outbox.enqueue(write).await.unwrap();
        // Taken as a replay would (marked as sent): nothing later is folded into it.
        outbox.take(1000).await.unwrap();
        queued += 1;
    }
    queued
}

async fn state(pool: &PgPool, prefix: &str) -> Vec<(String, String, f64, i64)> {
    sqlx::query_as(
        "SELECT substr(machine_name, 3), operational_status, efficiency, version
         FROM machines WHERE machine_name LIKE $1 ORDER BY 1",
    )
    .bind(format!("{prefix}%"))
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_mixed_batch_of_every_write_kind_ends_exactly_as_applying_its_writes_one_by_one(
    pool: PgPool,
) {
    let online = registry(pool.clone());
    let grouped = Outbox::open(&outbox_path()).await.unwrap();
    let single = Outbox::open(&outbox_path()).await.unwrap();
    let queued = queue_mix(&online, &grouped, "A-", false).await;
    assert_eq!(queue_mix(&online, &single, "B-", false).await, queued);

    // The whole mix commits as one planned batch: no fallback to one by one.
    let batch = grouped.pending(1000).await.unwrap();
    assert_eq!(batch.len(), queued);
    let kinds: std::collections::HashSet<&str> = batch.iter().map(|e| e.write.kind()).collect();
    assert_eq!(kinds.len(), 4, "every write kind is in the mix: {kinds:?}");
    assert_eq!(
        apply_batch(&online, &batch).await.unwrap(),
        BatchOutcome::Committed
    );
    for entry in single.pending(1000).await.unwrap() {
        assert_eq!(
            apply_batch(&online, &[entry]).await.unwrap(),
            BatchOutcome::Committed
        );
    }

    let after = state(&pool, "A-").await;
    assert!(
        after.iter().any(|(name, ..)| name.starts_with("REN-")),
        "renames applied"
    );
    assert!(
        after.iter().any(|(.., version)| *version > 3),
        "machines changed several times"
    );
    assert_eq!(after, state(&pool, "B-").await);
    // Each write recorded once: the one-by-one side recorded the same number.
    assert_eq!(
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FILTER (WHERE w.write_id = ANY($1)) FROM applied_writes w"
        )
        .bind(batch.iter().map(|e| e.write.write_id()).collect::<Vec<_>>())
        .fetch_one(&pool)
        .await
        .unwrap(),
        queued as i64
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_mix_with_conflicts_ends_as_one_by_one_with_the_same_writes_needing_attention(
    pool: PgPool,
) {
    let online = registry(pool.clone());
    let grouped = Outbox::open(&outbox_path()).await.unwrap();
    let single = Outbox::open(&outbox_path()).await.unwrap();
    let queued = queue_mix(&online, &grouped, "A-", true).await;
    assert_eq!(queue_mix(&online, &single, "B-", true).await, queued);

    // Replay finds the writes that cannot apply by splitting batches around them.
    let order: Vec<i64> = grouped
        .pending(1000)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    let report = replay(&online, &grouped).await.unwrap();
    let mut one_by_one = Vec::new();
    for (position, entry) in single.pending(1000).await.unwrap().into_iter().enumerate() {
        if apply_batch(&online, &[entry]).await.unwrap() != BatchOutcome::Committed {
            one_by_one.push(position);
        }
    }
    assert!(
        one_by_one.len() >= 5,
        "the mix has conflicts: {one_by_one:?}"
    );
    assert_eq!(report.conflicts as usize, one_by_one.len());
    assert_eq!(report.applied as usize, queued - one_by_one.len());
    // The same writes, by their place in the queue, need attention.
    let attention: Vec<usize> = grouped
        .needs_attention()
        .await
        .unwrap()
        .iter()
        .filter_map(|e| order.iter().position(|seq| *seq == e.seq))
        .collect();
    assert_eq!(attention, one_by_one);
    assert_eq!(state(&pool, "A-").await, state(&pool, "B-").await);
}

fn rename(machine: &mes_core::domain::Machine, name: &str) -> QueuedWrite {
    let mut edited = input(name);
    edited.machine_type = machine.machine_type.clone();
    QueuedWrite::Update(update_write(machine, edited))
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_edit_taking_a_name_another_edit_frees_keeps_the_queue_s_answer(pool: PgPool) {
    let online = registry(pool.clone());
    let outbox = Outbox::open(&outbox_path()).await.unwrap();
    let first = create(&online, "PRESS-1").await;
    let second = create(&online, "PRESS-2").await;
    // In this order the second edit wants PRESS-1 while the first machine still holds it: in
    // order it is refused, whichever row the server would visit first in one statement.
    outbox.enqueue(rename(&second, "PRESS-1")).await.unwrap();
    outbox.enqueue(rename(&first, "PRESS-9")).await.unwrap();
    let report = replay(&online, &outbox).await.unwrap();
    assert_eq!((report.applied, report.conflicts), (1, 1));
    let conflicts: Vec<_> = outbox
        .needs_attention()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| e.conflict)
        .collect();
    assert_eq!(
        conflicts,
        [Conflict::NameTaken {
            name: "PRESS-1".into()
        }]
    );

    // The other order frees the name first: both apply.
    let first = online.get_machine(first.uid).await.unwrap();
    let third = create(&online, "PRESS-3").await;
    outbox.enqueue(rename(&first, "PRESS-7")).await.unwrap();
    outbox.enqueue(rename(&third, "PRESS-9")).await.unwrap();
    let report = replay(&online, &outbox).await.unwrap();
    assert_eq!((report.applied, report.conflicts), (2, 0));
    assert_eq!(
        online.get_machine(third.uid).await.unwrap().machine_name,
        "PRESS-9"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn grouped_deletes_count_a_machine_already_gone_as_done(pool: PgPool) {
    let online = registry(pool.clone());
    let outbox = Outbox::open(&outbox_path()).await.unwrap();
    let kept_gone = create(&online, "GONE-1").await;
    let deleted_here = create(&online, "GONE-2").await;
    for machine in [&kept_gone, &deleted_here] {
        outbox
            .enqueue(QueuedWrite::Delete(delete_write(machine)))
            .await
            .unwrap();
    }
    online
        .delete_machine(&delete_write(&kept_gone))
        .await
        .unwrap();
    let batch = outbox.pending(10).await.unwrap();
    assert_eq!(
        apply_batch(&online, &batch).await.unwrap(),
        BatchOutcome::Committed
    );
    assert!(online.get_machine(deleted_here.uid).await.is_err());
    // A delete based on an old version is not grouped into success: it needs attention.
    let stale = create(&online, "GONE-3").await;
    let other = create(&online, "GONE-4").await;
    online
        .set_machine_status(&status_write(stale.uid, "Down"))
        .await
        .unwrap();
    outbox
        .remove(&batch.iter().map(|e| e.seq).collect::<Vec<_>>())
        .await
        .unwrap();
    for machine in [&stale, &other] {
        outbox
            .enqueue(QueuedWrite::Delete(delete_write(machine)))
            .await
            .unwrap();
    }
    let report = replay(&online, &outbox).await.unwrap();
    assert_eq!((report.applied, report.conflicts), (1, 1));
    assert!(matches!(
        outbox.needs_attention().await.unwrap()[0].conflict,
        Some(Conflict::ChangedSince { expected: 1, .. })
    ));
}

/// The statement itself leaves out an edit whose outcome would depend on the order the server
/// visits rows in. The planner is steered to visit the machines in table order, the order in
/// which the group would succeed although the queue's order refuses the second write.
#[sqlx::test(migrations = "../../migrations")]
async fn grouped_edits_leave_out_a_rename_onto_a_name_another_edit_of_the_group_frees(
    pool: PgPool,
) {
    let online = registry(pool.clone());
    let first = create(&online, "LATHE-1").await;
    let second = create(&online, "LATHE-2").await;
    let mut db = pool.acquire().await.unwrap();
    sqlx::raw_sql("SET enable_nestloop = off; SET enable_mergejoin = off; SET enable_indexscan = off; SET enable_bitmapscan = off")
        .execute(&mut *db)
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let taking = input("LATHE-1").validate(now).unwrap();
    let freeing = input("LATHE-9").validate(now).unwrap();
    let writes = [
        mes_core::repo::BatchUpdate {
            write_id: Uuid::new_v4(),
            uid: second.uid,
            expected_version: second.version,
            efficiency_seen: None,
            machine: &taking,
        },
        mes_core::repo::BatchUpdate {
            write_id: Uuid::new_v4(),
            uid: first.uid,
            expected_version: first.version,
            efficiency_seen: None,
            machine: &freeing,
        },
    ];
    let done = mes_core::repo::update_machines(&mut db, &writes, None)
        .await
        .unwrap();
    assert_eq!(
        done,
        [writes[1].write_id],
        "the rename onto LATHE-1 is left out; replay then sends it alone, after the other"
    );
}
