//! Replay of 10,000 queued writes through the real sync worker, in three orders an operator
//! might produce.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mes_core::config::ConfigSource;
use mes_core::domain::{DeleteMachine, SetMachineStatus, UpdateMachine};
use mes_core::sync::{Connection, Outbox, QueuedWrite, SyncedRegistry};
use mes_core::{DatabaseConfig, Registry};
use uuid::Uuid;

use crate::fixtures;
use crate::proxy::Proxy;
use crate::stats::Table;

const WRITES: usize = 10_000;
const TARGET_PER_SECOND: f64 = 5_000.0;

#[derive(Clone, Copy)]
enum Order {
    /// 5,000 creates, then 5,000 status changes.
    Runs,
    /// The same, strictly alternating: create, status change, create, …
    Interleaved,
    /// A shuffled mix of all four kinds, 2,500 each: edits (half of them renames) and deletes
    /// of machines the earlier scenarios created, status changes of 1,000 machines (some
    /// changed several times within a batch).
    MixedShift,
    /// The mixed shift where 1 edit in 25 (1 write in 100) was based on a version someone else
    /// has changed meanwhile: 100 conflicts spread through the queue.
    MixedWithConflicts,
}

impl Order {
    fn describe(self) -> &'static str {
        match self {
            Order::Runs => "in runs: 5,000 creates, then 5,000 status changes",
            Order::Interleaved => "interleaved: create, status change, create, …",
            Order::MixedShift => {
                "shuffled mix: 2,500 each of creates, edits (half renames), status changes, deletes"
            }
            Order::MixedWithConflicts => "the shuffled mix, with 100 stale edits (1% of writes)",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Order::Runs => "RR",
            Order::Interleaved => "RI",
            Order::MixedShift => "RM",
            Order::MixedWithConflicts => "RC",
        }
    }
}

struct Measured {
    enqueue: Duration,
    synced: Duration,
    /// Machines with the scenario's prefix after replay, and how many were expected.
    created: (i64, i64),
    /// Writes needing attention after replay.
    conflicts: usize,
}

pub async fn replay_at_scale(registry: Arc<Registry>) -> String {
    let mut table = Table::new(
        &format!(
            "Replay of {WRITES} queued writes (batches of 500 per server transaction; target ≥ {TARGET_PER_SECOND:.0} writes/s)"
        ),
        &[
            "write order",
            "queueing offline (fsynced)",
            "database back → synced",
            "replay throughput",
            "target",
            "machines with the prefix (expected)",
            "needing attention",
        ],
    );
    for order in [
        Order::Runs,
        Order::Interleaved,
        Order::MixedShift,
        Order::MixedWithConflicts,
    ] {
        let m = replay_once(registry.clone(), order).await;
        let per_second = WRITES as f64 / m.synced.as_secs_f64();
        table.row(&[
            order.describe().into(),
            format!("{:.0} writes/s", WRITES as f64 / m.enqueue.as_secs_f64()),
            format!("{:.2} s", m.synced.as_secs_f64()),
            format!("{per_second:.0} writes/s"),
            if per_second >= TARGET_PER_SECOND {
                "✓"
            } else {
                "✗"
            }
            .into(),
            format!("{} ({})", m.created.0, m.created.1),
            m.conflicts.to_string(),
        ]);
    }
    let outage = replay_after_outage().await;
    format!(
        "{}\nTimes run from the worker's start, as after an outage (health check, then replay), to its \
         \"synced\" report.\n\n{outage}",
        table.render()
    )
}

/// A real outage: the app's connections go through a proxy that is cut while 10,000 writes (the
/// interleaved order) wait in the outbox and the worker retries with backoff, then restored.
async fn replay_after_outage() -> String {
    let admin_url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let url = fixtures::bench_url(&admin_url);
    let (before_host, rest) = url.split_once('@').expect("user@host in the URL");
    let (host_port, database) = rest.split_once('/').expect("/database in the URL");
    let target = tokio::net::lookup_host(host_port)
        .await
        .expect("server address")
        .next()
        .expect("an address");
    let proxy = Proxy::start(target).await;
    let via_proxy = format!("{before_host}@127.0.0.1:{}/{database}", proxy.port);
    let config = DatabaseConfig::from_url(&via_proxy, ConfigSource::Environment, "bench")
        .expect("proxy URL");
    let registry = Arc::new(Registry::connect_lazy(&config));
    let path = std::env::temp_dir().join(format!("mes-bench-outbox-{}.sqlite3", Uuid::new_v4()));
    let synced = Arc::new(SyncedRegistry::new(
        registry.clone(),
        Outbox::open(&path).await.expect("outbox"),
    ));
    let targets = targets(&registry).await;
    let (writes, _) = writes(Order::Interleaved, &targets);
    let writes: Vec<QueuedWrite> = writes
        .into_iter()
        .map(|w| match w {
            // Names of their own, apart from the interleaved scenario's.
            QueuedWrite::Create(mut c) => {
                c.machine.machine_name = c.machine.machine_name.replacen("RI-", "RO-", 1);
                QueuedWrite::Create(c)
            }
            other => other,
        })
        .collect();

    let returned: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<Instant>();
    let done_tx = Mutex::new(Some(done_tx));
    let syncing_at: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    let seen_return = returned.clone();
    let seen_syncing = syncing_at.clone();
    let worker = tokio::spawn(synced.clone().run(move |status| {
        let after_return = seen_return.lock().ok().is_some_and(|r| r.is_some());
        if after_return && status.connection == Connection::Syncing {
            if let Ok(mut at) = seen_syncing.lock() {
                at.get_or_insert_with(Instant::now);
            }
        }
        if after_return && status.pending == 0 && status.connection == Connection::Online {
            if let Some(tx) = done_tx.lock().ok().and_then(|mut t| t.take()) {
                let _ = tx.send(Instant::now());
            }
        }
    }));
    // Online first, then the cut: the app finds the database away on its next read.
    while synced.status().connection != Connection::Online {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let cut_at = Instant::now();
    proxy.down();
    let _ = synced.list_machines(&Default::default()).await;
    for write in writes {
        synced.outbox().enqueue_sent(write).await.expect("enqueue");
    }
    // Long enough for the worker's backoff to reach its longest wait.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let outage = cut_at.elapsed();
    let back_at = Instant::now();
    if let Ok(mut r) = returned.lock() {
        *r = Some(back_at);
    }
    proxy.up();
    let finished = done_rx.await.expect("synced after the return");
    worker.abort();
    let _ = std::fs::remove_file(path);
    let noticed = syncing_at
        .lock()
        .ok()
        .and_then(|at| *at)
        .map_or(f64::NAN, |at| (at - back_at).as_secs_f64());
    format!(
        "After a real outage ({:.1} s; a proxy in front of the server drops every connection, \
         {WRITES} interleaved writes queue meanwhile): database back → synced in **{:.2} s**: \
         {noticed:.2} s until the worker noticed (it checks 1 s doubling to 5 s apart while \
         offline, so at most 5 s), then {:.2} s of replay.",
        outage.as_secs_f64(),
        (finished - back_at).as_secs_f64(),
        (finished - back_at).as_secs_f64() - noticed,
    )
}

/// Machines the mixed shift edits, deletes and changes, as the client last saw them.
struct Targets {
    /// Distinct machines, each edited or deleted once: (uid, name, version).
    edited: Vec<(Uuid, String, i64)>,
    /// Status changes pick among these, with repeats.
    toggled: Vec<Uuid>,
}

async fn targets(registry: &Registry) -> Targets {
    let edited = sqlx::query_as(
        "SELECT uid, machine_name, version FROM machines
         WHERE machine_name LIKE 'RR-%' OR machine_name LIKE 'RI-%' ORDER BY id LIMIT 5000",
    )
    .fetch_all(registry.pool())
    .await
    .expect("machines to edit");
    let toggled = sqlx::query_scalar("SELECT uid FROM machines ORDER BY id LIMIT 1000")
        .fetch_all(registry.pool())
        .await
        .expect("machines to change");
    Targets { edited, toggled }
}

fn writes(order: Order, targets: &Targets) -> (Vec<QueuedWrite>, i64) {
    let prefix = order.prefix();
    let create =
        |i: usize| QueuedWrite::Create(fixtures::create_write(&format!("{prefix}-{i:05}"), i));
    let status = |i: usize, uid: Uuid| {
        QueuedWrite::SetStatus(SetMachineStatus {
            write_id: Uuid::new_v4(),
            uid,
            status: ["Down", "Idle", "Running"][i % 3].into(),
        })
    };
    let toggled = |i: usize| targets.toggled[i % targets.toggled.len()];
    match order {
        Order::Runs => {
            let creates = (0..WRITES / 2).map(create);
            let statuses = (0..WRITES / 2).map(|i| status(i, toggled(i)));
            (creates.chain(statuses).collect(), (WRITES / 2) as i64)
        }
        Order::Interleaved => {
            let writes = (0..WRITES / 2)
                .flat_map(|i| [create(i), status(i, toggled(i))])
                .collect();
            (writes, (WRITES / 2) as i64)
        }
        Order::MixedShift | Order::MixedWithConflicts => {
            let stale_every = match order {
                Order::MixedWithConflicts => 25,
                _ => usize::MAX,
            };
            assert!(targets.edited.len() >= WRITES / 2, "machines to edit");
            let mut kinds: Vec<usize> = (0..WRITES).map(|i| i % 4).collect();
            let mut seed: u64 = 42;
            for i in (1..kinds.len()).rev() {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                kinds.swap(i, (seed >> 33) as usize % (i + 1));
            }
            let (mut edits, mut deletes) = (
                targets.edited[..WRITES / 4].iter(),
                targets.edited[WRITES / 4..WRITES / 2].iter(),
            );
            let mut writes = Vec::with_capacity(WRITES);
            let mut renamed = 0;
            let mut edits_made = 0;
            for (i, kind) in kinds.into_iter().enumerate() {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let random = (seed >> 33) as usize;
                writes.push(match kind {
                    0 => create(i),
                    1 => status(i, toggled(random)),
                    2 => {
                        let (uid, name, version) = edits.next().expect("an edit target");
                        edits_made += 1;
                        let stale = edits_made % stale_every == 0;
                        let name = if i % 2 == 0 && !stale {
                            renamed += 1;
                            format!("{prefix}-E{i:05}")
                        } else {
                            name.clone()
                        };
                        QueuedWrite::Update(UpdateMachine {
                            write_id: Uuid::new_v4(),
                            uid: *uid,
                            expected_version: if stale { version + 7 } else { *version },
                            efficiency_seen: None,
                            machine: fixtures::input(&name, i + 1),
                        })
                    }
                    _ => {
                        let (uid, _, version) = deletes.next().expect("a delete target");
                        QueuedWrite::Delete(DeleteMachine {
                            write_id: Uuid::new_v4(),
                            uid: *uid,
                            expected_version: *version,
                        })
                    }
                });
            }
            // The creates, and the machines renamed onto the prefix.
            (writes, (WRITES / 4 + renamed) as i64)
        }
    }
}

async fn replay_once(registry: Arc<Registry>, order: Order) -> Measured {
    let path = std::env::temp_dir().join(format!("mes-bench-outbox-{}.sqlite3", Uuid::new_v4()));
    let outbox = Outbox::open(&path).await.expect("outbox");
    let targets = targets(&registry).await;
    let (writes, expected) = writes(order, &targets);

    let queued = Instant::now();
    // Queued as possibly sent already (as after an online attempt that got no answer), so none
    // folds into another: all 10,000 writes reach the server (unsent, the repeated status
    // changes of one machine would fold into one).
    for write in writes {
        outbox.enqueue_sent(write).await.expect("enqueue");
    }
    let enqueue = queued.elapsed();
    assert_eq!(outbox.pending_count().await.expect("count"), WRITES as i64);

    // The worker starts as after an outage: it first checks the database, then replays.
    let synced = Arc::new(SyncedRegistry::new(registry.clone(), outbox));
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<Instant>();
    let done_tx = Mutex::new(Some(done_tx));
    let started = Instant::now();
    let worker = tokio::spawn(synced.clone().run(move |status| {
        if status.pending == 0 && status.connection == Connection::Online {
            if let Some(tx) = done_tx.lock().ok().and_then(|mut t| t.take()) {
                let _ = tx.send(Instant::now());
            }
        }
    }));
    let finished = done_rx.await.expect("worker reports synced");
    worker.abort();
    let conflicts = synced
        .outbox()
        .needs_attention()
        .await
        .expect("attention")
        .len();
    let created: i64 =
        sqlx::query_scalar("SELECT count(*) FROM machines WHERE machine_name LIKE $1")
            .bind(format!("{}-%", order.prefix()))
            .fetch_one(registry.pool())
            .await
            .expect("count");
    let _ = std::fs::remove_file(path);
    Measured {
        enqueue,
        synced: finished - started,
        created: (created, expected),
        conflicts,
    }
}
