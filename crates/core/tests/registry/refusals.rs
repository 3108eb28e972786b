//! Transient is not a conflict: a row lock held too long, a read-only server (a standby after a
//! failover) and a server that refuses for a reason of its own each get the right answer, by
//! SQLSTATE. Only real conflicts need attention, in the app's words.

use std::sync::Arc;
use std::time::Duration;

use mes_core::sync::{replay, Conflict, Outbox, QueuedWrite, SyncedRegistry, WriteOutcome};
use sqlx::PgPool;

use crate::support::*;
use crate::sync::{outbox_path, queued_status};

/// A rule another tool added (a trigger) refuses one write in a batch: the grouped statement
/// fails without naming which write, the batch is halved down to that write, which alone needs
/// attention with the app's words; every other write applies.
#[sqlx::test(migrations = "../../migrations")]
async fn a_refusal_naming_no_write_halves_the_batch_down_to_it(pool: PgPool) {
    sqlx::raw_sql(
        "CREATE FUNCTION no_bad() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF NEW.machine_name = 'BAD-13' THEN RAISE EXCEPTION 'plant rule: no BAD-13 here'; END IF;
             RETURN NEW;
         END $$;
         CREATE TRIGGER no_bad BEFORE INSERT ON machines FOR EACH ROW EXECUTE FUNCTION no_bad();",
    )
    .execute(&pool)
    .await
    .unwrap();
    let online = registry(pool.clone());
    let outbox = Outbox::open(&outbox_path()).await.unwrap();
    for i in 0..40 {
        outbox
            .enqueue(QueuedWrite::Create(create_write(input(&format!(
                "BAD-{i}"
            )))))
            .await
            .unwrap();
    }
    let report = replay(&online, &outbox).await.unwrap();
    assert_eq!((report.applied, report.conflicts), (39, 1), "{report:?}");
    let attention = outbox.needs_attention().await.unwrap();
    match &attention[0].conflict {
        Some(Conflict::Refused { explanation }) => {
            assert_eq!(
                explanation,
                "a rule in the database (a trigger) refused this change"
            );
        }
        other => panic!("{other:?}"),
    }
    let machines: i64 = sqlx::query_scalar("SELECT count(*) FROM machines")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(machines, 39);
}

/// Another session holds the machine's row lock longer than the lock timeout: the write is not a
/// conflict; it waits in the outbox and applies once the lock is gone.
#[sqlx::test(migrations = "../../migrations")]
async fn a_row_locked_too_long_is_busy_not_a_conflict(pool: PgPool) {
    let (_proxy, remote) = behind_proxy(&pool, Duration::from_secs(1)).await;
    let machine = create(&remote, "CNC-001").await;
    let synced = SyncedRegistry::new(remote.clone(), Outbox::open(&outbox_path()).await.unwrap());
    let mut holder = pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM machines WHERE uid = $1 FOR UPDATE")
        .bind(machine.uid)
        .execute(&mut *holder)
        .await
        .unwrap();
    let write = status_write(machine.uid, "Down");
    let outcome = synced.set_machine_status(write.clone()).await.unwrap();
    assert!(
        matches!(outcome, WriteOutcome::Queued { .. }),
        "{outcome:?}"
    );
    assert!(synced.outbox().needs_attention().await.unwrap().is_empty());
    holder.rollback().await.unwrap();
    // The worker tries again once the fail-fast second after the failure has passed.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let report = replay(&remote, synced.outbox()).await.unwrap();
    assert_eq!((report.applied, report.conflicts), (1, 0), "{report:?}");
    assert_eq!(recorded(&pool, write.write_id).await, 1);
}

/// The server only reads (a standby after a failover, or set read-only by an administrator):
/// writes wait and apply once it accepts them again.
#[sqlx::test(migrations = "../../migrations")]
async fn a_read_only_server_is_unavailable_not_a_conflict(pool: PgPool) {
    let online = registry(pool.clone());
    let machine = create(&online, "CNC-001").await;
    let database: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&pool)
        .await
        .unwrap();
    sqlx::query(&format!(
        "ALTER DATABASE \"{database}\" SET default_transaction_read_only = on"
    ))
    .execute(&pool)
    .await
    .unwrap();
    // New sessions are read-only.
    let (_proxy, remote) = behind_proxy(&pool, Duration::from_secs(1)).await;
    let synced = SyncedRegistry::new(remote.clone(), Outbox::open(&outbox_path()).await.unwrap());
    let outcome = synced
        .set_machine_status(status_write(machine.uid, "Down"))
        .await
        .unwrap();
    assert!(
        matches!(outcome, WriteOutcome::Queued { .. }),
        "{outcome:?}"
    );
    let reason = synced.status().reason.unwrap_or_default();
    assert!(reason.contains("only accepts reading"), "{reason}");
    let report = replay(&remote, synced.outbox()).await.unwrap();
    assert!(report.interrupted.is_some());
    assert_eq!(report.conflicts, 0);
    sqlx::query(&format!(
        "ALTER DATABASE \"{database}\" SET default_transaction_read_only = off"
    ))
    .execute(&pool)
    .await
    .unwrap();
    // Sessions opened while read-only keep that setting: a fresh pool, as after a failover.
    let (_proxy, fresh) = behind_proxy(&pool, Duration::from_secs(1)).await;
    let report = replay(&fresh, synced.outbox()).await.unwrap();
    assert_eq!((report.applied, report.conflicts), (1, 0), "{report:?}");
}

/// Applied write ids older than the retention are forgotten in bounded steps; newer ones stay.
#[sqlx::test(migrations = "../../migrations")]
async fn old_applied_write_ids_are_pruned_in_steps(pool: PgPool) {
    let online = Arc::new(registry(pool.clone()));
    let machine = create(&online, "CNC-001").await;
    for _ in 0..5 {
        online
            .set_machine_status(&status_write(machine.uid, "Idle"))
            .await
            .unwrap();
    }
    sqlx::query(
        "INSERT INTO applied_writes (write_id, machine_uid, kind, applied_at)
         SELECT gen_random_uuid(), $1, 'set_status', now() - interval '200 days' FROM generate_series(1, 25)",
    )
    .bind(machine.uid)
    .execute(&pool)
    .await
    .unwrap();
    let pruned = online
        .prune_applied_writes_before(
            chrono::Utc::now() - mes_core::registry::APPLIED_WRITES_RETENTION,
            10,
        )
        .await
        .unwrap();
    assert_eq!(pruned, 25);
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM applied_writes")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 6, "the create and five status changes stay");
    assert_eq!(online.prune_applied_writes().await.unwrap(), 0);
    let _ = queued_status(machine.uid, "Down");
}
