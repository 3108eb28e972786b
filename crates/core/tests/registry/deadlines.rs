//! Deadlines: a network that freezes (no reset, nothing flows) or refuses makes the app
//! offline within the deadline, writes queue, reads answer from the fleet copy, and once the
//! network is back everything is sent exactly once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mes_core::domain::ListQuery;
use mes_core::sync::{hooks, replay, Connection, Outbox, SyncedRegistry, WriteOutcome};
use sqlx::PgPool;

use crate::support::*;
use crate::sync::outbox_path;

const DEADLINE: Duration = Duration::from_secs(1);

async fn cut_then_back(pool: PgPool, freeze: bool) {
    let (proxy, remote) = behind_proxy(&pool, DEADLINE).await;
    let synced = Arc::new(SyncedRegistry::new(
        remote,
        Outbox::open(&outbox_path()).await.unwrap(),
    ));
    let create = create_write(input("CNC-001"));
    let WriteOutcome::Applied { machine } = synced.create_machine(create).await.unwrap() else {
        panic!("online create expected")
    };
    synced.refresh_fleet_copy().await.unwrap();
    let worker = tokio::spawn(synced.clone().run(|_| {}));
    eventually(10, "online", || async {
        synced.status().connection == Connection::Online
    })
    .await;

    if freeze {
        proxy.freeze();
    } else {
        proxy.down();
    }
    let started = Instant::now();
    let down = status_write(machine.uid, "Down");
    let outcome = synced.set_machine_status(down.clone()).await.unwrap();
    assert!(
        matches!(outcome, WriteOutcome::Queued { .. }),
        "{outcome:?}"
    );
    assert!(
        started.elapsed() < DEADLINE * 3,
        "the save waited {:?}",
        started.elapsed()
    );
    let status = synced.status();
    assert_eq!(status.connection, Connection::Offline);
    let reason = status.reason.unwrap_or_default();
    if freeze {
        assert!(reason.contains("no answer"), "{reason}");
    }

    // Reads answer at once, from the fleet copy, while the network is still cut.
    let started = Instant::now();
    let page = synced.list_machines(&ListQuery::default()).await.unwrap();
    assert!(page.cached_at.is_some());
    assert_eq!(page.machines.len(), 1);
    assert!(started.elapsed() < Duration::from_millis(500));
    // A second write while away queues too, without waiting.
    let idle = status_write(machine.uid, "Idle");
    let started = Instant::now();
    synced.set_machine_status(idle.clone()).await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(500));

    proxy.up();
    eventually(20, "synced after the network is back", || async {
        let s = synced.status();
        s.connection == Connection::Online && s.pending == 0
    })
    .await;
    worker.abort();
    let stored = registry(pool.clone())
        .get_machine(machine.uid)
        .await
        .unwrap();
    assert_eq!(stored.operational_status.as_str(), "Idle");
    assert_eq!(recorded(&pool, down.write_id).await, 1);
    assert_eq!(recorded(&pool, idle.write_id).await, 1);
    assert_eq!(stored.version, 3, "each status change applied once");
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_frozen_network_is_offline_within_the_deadline_and_synced_once_thawed(pool: PgPool) {
    cut_then_back(pool, true).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_refusing_network_is_offline_at_once_and_synced_once_back(pool: PgPool) {
    cut_then_back(pool, false).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_network_freezing_mid_replay_interrupts_it_and_nothing_is_lost_or_doubled(pool: PgPool) {
    let online = registry(pool.clone());
    let machines = [
        create(&online, "CNC-001").await,
        create(&online, "CNC-002").await,
    ];
    let (proxy, registry) = behind_proxy(&pool, DEADLINE).await;
    let outbox = Arc::new(Outbox::open(&outbox_path()).await.unwrap());
    let mut writes = Vec::new();
    for machine in &machines {
        let write = status_write(machine.uid, "Maintenance");
        writes.push(write.write_id);
        outbox
            .enqueue(mes_core::sync::QueuedWrite::SetStatus(write))
            .await
            .unwrap();
    }
    let created = create_write(input("NEW-001"));
    writes.push(created.write_id);
    outbox
        .enqueue(mes_core::sync::QueuedWrite::Create(created))
        .await
        .unwrap();

    // The batch is taken (marked as sent), then the network freezes before it reaches the server.
    let taken = outbox.hooks().pause_at(hooks::REPLAY_TAKEN);
    let replaying = tokio::spawn({
        let (registry, outbox) = (registry.clone(), outbox.clone());
        async move { replay(&registry, &outbox).await }
    });
    taken.reached().await;
    proxy.freeze();
    taken.release();
    let started = Instant::now();
    let report = replaying.await.unwrap().unwrap();
    assert!(report.interrupted.is_some(), "{report:?}");
    assert!(started.elapsed() < DEADLINE * 3);
    assert_eq!(outbox.pending_count().await.unwrap(), 3, "nothing lost");

    proxy.up();
    let report = replay(&registry, &outbox).await.unwrap();
    assert_eq!((report.applied, report.conflicts), (3, 0), "{report:?}");
    for write_id in writes {
        assert_eq!(recorded(&pool, write_id).await, 1);
    }
    for machine in &machines {
        assert_eq!(online.get_machine(machine.uid).await.unwrap().version, 2);
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn each_connection_names_its_pc_and_a_pc_holds_at_most_three(pool: PgPool) {
    let (_proxy, registry) = behind_proxy(&pool, DEADLINE).await;
    for i in 0..4 {
        create(&registry, &format!("CNC-{i}")).await;
    }
    // Many reads at once (each list runs its page and total side by side).
    let lists: Vec<_> = (0..6)
        .map(|_| {
            let registry = registry.clone();
            tokio::spawn(async move { registry.list_machines(&ListQuery::default()).await })
        })
        .collect();
    for list in lists {
        assert_eq!(list.await.unwrap().unwrap().total, 4);
    }
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT application_name FROM pg_stat_activity
         WHERE datname = current_database() AND application_name LIKE 'mes-machine-manager@%'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(!names.is_empty() && names.len() <= 3, "{names:?}");
    let host = mes_core::config::host_name();
    assert!(names.iter().all(|n| n.ends_with(&host)), "{names:?}");
    let timeouts: (String, String, String) = sqlx::query_as(
        "SELECT current_setting('statement_timeout'), current_setting('lock_timeout'),
                current_setting('idle_in_transaction_session_timeout')",
    )
    .fetch_one(registry.pool())
    .await
    .unwrap();
    assert_eq!(timeouts, ("1s".into(), "500ms".into(), "10s".into()));
}
