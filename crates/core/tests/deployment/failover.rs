//! Failover on a real primary and streaming standby (two private clusters, `pg_basebackup -R`).
//! The app is given both hosts, as libpq takes them (`host1:port,host2:port`), and makes writes
//! through its outbox and sync worker while the primary is stopped and the standby promoted.
//! Every write must land exactly once on the new primary, and the connection must go offline
//! and come back by itself.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cluster::{self, Cluster};
use mes_core::config::{ConfigSource, DatabaseConfig};
use mes_core::domain::{CreateMachine, ListQuery, MachineInput, SetMachineStatus};
use mes_core::sync::{Connection, Enqueued, Outbox, QueuedWrite, SyncedRegistry, WriteOutcome};
use mes_core::{Registry, MIGRATOR};
use sqlx::PgPool;
use uuid::Uuid;

const STATUSES: [&str; 4] = ["Idle", "Down", "Maintenance", "Running"];

fn machine(name: &str) -> MachineInput {
    MachineInput {
        machine_name: name.into(),
        machine_type: "CNC".into(),
        operational_status: "Running".into(),
        efficiency: Some(80.0),
        last_maintenance: "2026-11-01T00:00:00Z".into(),
    }
}

struct Pair {
    primary: Cluster,
    standby: Cluster,
}

impl Pair {
    /// A migrated primary and its streaming standby.
    async fn start() -> Pair {
        let primary = Cluster::new("failover-primary");
        primary.start();
        let pool = PgPool::connect(&primary.run(&["url", "mes"]))
            .await
            .unwrap();
        MIGRATOR.run(&pool).await.unwrap();
        pool.close().await;
        let standby = Cluster::new("failover-standby");
        standby.run(&[
            "standby",
            primary.dir.to_str().unwrap(),
            &primary.port.to_string(),
        ]);
        Pair { primary, standby }
    }

    /// The app's URL: both servers, the primary first.
    fn both(&self) -> String {
        self.primary.run(&["url", "mes"]).replace(
            &format!("127.0.0.1:{}", self.primary.port),
            &format!(
                "127.0.0.1:{},127.0.0.1:{}",
                self.primary.port, self.standby.port
            ),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_made_through_a_failover_land_once_on_the_new_primary() {
    let pair = Pair::start().await;
    let config = DatabaseConfig::from_url(&pair.both(), ConfigSource::Environment, "the test URL")
        .unwrap()
        .with_deadline(Duration::from_secs(2));
    assert_eq!(config.hosts().len(), 2);
    let folder = std::env::temp_dir().join(format!("mes-failover-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    let outbox = Outbox::open(&folder.join("outbox.sqlite")).await.unwrap();
    let synced = Arc::new(SyncedRegistry::new(
        Arc::new(Registry::connect_lazy(&config)),
        outbox,
    ));
    let seen = Arc::new(Mutex::new(Vec::<Connection>::new()));
    let record = seen.clone();
    let heard = Arc::new(Mutex::new(Vec::<Uuid>::new()));
    let hear = heard.clone();
    synced.set_live_listener(Arc::new(move |changes| {
        hear.lock()
            .unwrap()
            .extend(changes.iter().filter_map(|c| c.uid))
    }));
    let worker = tokio::spawn(
        synced
            .clone()
            .run_supervised(Arc::new(move |s| record.lock().unwrap().push(s.connection))),
    );

    // The machine whose status is changed over and over.
    let shared = Uuid::new_v4();
    let created = synced
        .submit(QueuedWrite::Create(CreateMachine {
            write_id: Uuid::new_v4(),
            uid: shared,
            machine: machine("FO-SHARED"),
        }))
        .await
        .unwrap();
    assert!(matches!(created.outcome, WriteOutcome::Applied { .. }));

    // Writes every 25 ms for about 6 s: a status change and a new machine in turn. The primary
    // is stopped after 1 s and the standby promoted 3 s later.
    let mut write_ids = Vec::new();
    let mut outcomes = std::collections::HashMap::new();
    // Status changes queued while the last one still waited: the outbox keeps the machine's
    // last status in one write, so these are not sent by their own id.
    let mut folded = Vec::new();
    // The status each status write sends (its own, or that of the last one folded into it).
    let mut sent_statuses: Vec<(Uuid, &str)> = Vec::new();
    let mut status_writes = 0;
    let mut creates = 0;
    let mut queued = 0;
    let mut failover: Option<tokio::task::JoinHandle<()>> = None;
    let started = Instant::now();
    for i in 0..240 {
        if i == 40 {
            let (primary, standby) = (pair.primary.dir.clone(), pair.standby.dir.clone());
            let (primary_port, standby_port) = (pair.primary.port, pair.standby.port);
            failover = Some(tokio::task::spawn_blocking(move || {
                cluster::run_script(&primary, primary_port, &["stop"]);
                // Longer than the deadline: writes meanwhile are queued (the window is offline).
                std::thread::sleep(Duration::from_secs(3));
                cluster::run_script(&standby, standby_port, &["promote"]);
            }));
        }
        let write_id = Uuid::new_v4();
        let write = if i % 2 == 0 {
            status_writes += 1;
            QueuedWrite::SetStatus(SetMachineStatus {
                write_id,
                uid: shared,
                status: STATUSES[status_writes % 4].into(),
            })
        } else {
            creates += 1;
            QueuedWrite::Create(CreateMachine {
                write_id,
                uid: Uuid::new_v4(),
                machine: machine(&format!("FO-{i:03}")),
            })
        };
        let submitted = synced.submit(write).await.unwrap();
        outcomes.insert(
            write_id,
            format!(
                "{i}: {:?} at {} ms",
                submitted.outcome,
                started.elapsed().as_millis()
            ),
        );
        if matches!(submitted.outcome, WriteOutcome::Queued { .. }) {
            queued += 1;
        }
        match submitted.enqueued {
            // Queued behind an unsent change of the same machine: sent as part of that one.
            Some(Enqueued::FoldedInto { into }) => {
                folded.push(write_id);
                let status = STATUSES[status_writes % 4];
                if let Some(sent) = sent_statuses.iter_mut().find(|(id, _)| *id == into) {
                    sent.1 = status;
                }
            }
            None | Some(Enqueued::Appended) => {
                write_ids.push(write_id);
                if i % 2 == 0 {
                    sent_statuses.push((write_id, STATUSES[status_writes % 4]));
                }
            }
            Some(other) => panic!("write {i} was queued as {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    failover.unwrap().await.unwrap();
    println!(
        "{} writes in {:.1} s, {queued} of them queued while no server accepted writes",
        write_ids.len() + folded.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(queued > 0, "the failover was not noticed by any write");

    // The outbox drains to the new primary by itself.
    let drained = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let status = synced.status();
            if status.pending == 0 && status.connection == Connection::Online {
                return status;
            }
            if std::env::var("FAILOVER_DEBUG").is_ok() {
                println!("{status:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the outbox did not drain to the promoted standby within 60 s");
    assert_eq!(drained.needs_attention, 0, "{drained:?}");
    let seen = seen.lock().unwrap().clone();
    let offline_at = seen
        .iter()
        .position(|c| *c == Connection::Offline)
        .expect("the connection never went offline");
    assert!(
        seen[offline_at..].contains(&Connection::Online),
        "never back online: {seen:?}"
    );

    // On the new primary: every write exactly once.
    let promoted = PgPool::connect(&pair.standby.run(&["url", "mes"]))
        .await
        .unwrap();
    let in_recovery: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()")
        .fetch_one(&promoted)
        .await
        .unwrap();
    assert!(!in_recovery);
    let applied: i64 =
        sqlx::query_scalar("SELECT count(*) FROM applied_writes WHERE write_id = ANY($1)")
            .bind(&write_ids)
            .fetch_one(&promoted)
            .await
            .unwrap();
    if applied as usize != write_ids.len() {
        let found: Vec<Uuid> =
            sqlx::query_scalar("SELECT write_id FROM applied_writes WHERE write_id = ANY($1)")
                .bind(&write_ids)
                .fetch_all(&promoted)
                .await
                .unwrap();
        let missing: Vec<&String> = write_ids
            .iter()
            .filter(|id| !found.contains(id))
            .map(|id| &outcomes[id])
            .collect();
        panic!("{} writes missing: {missing:?}", missing.len());
    }
    let (version, status_changes): (i64, i64) = sqlx::query_as(
        "SELECT m.version, (SELECT count(*) FROM machine_history h
                             WHERE h.machine_uid = m.uid AND h.operation = 'update'
                               AND h.changes ? 'operational_status')
           FROM machines m WHERE m.uid = $1",
    )
    .bind(shared)
    .fetch_one(&promoted)
    .await
    .unwrap();
    // A status write that sets the status the machine has is no change (no version, no history).
    let mut expected_changes = 0;
    let mut status = "Running";
    for (_, sent) in &sent_statuses {
        if *sent != status {
            expected_changes += 1;
            status = sent;
        }
    }
    assert_eq!(status_changes, expected_changes, "status changes applied");
    assert_eq!(
        version,
        1 + expected_changes,
        "a write applied twice or lost"
    );
    let folded_sent: i64 =
        sqlx::query_scalar("SELECT count(*) FROM applied_writes WHERE write_id = ANY($1)")
            .bind(&folded)
            .fetch_one(&promoted)
            .await
            .unwrap();
    assert_eq!(folded_sent, 0, "a folded write was sent by its own id");
    let created: i64 =
        sqlx::query_scalar("SELECT count(*) FROM machines WHERE machine_name LIKE 'FO-___'")
            .fetch_one(&promoted)
            .await
            .unwrap();
    assert_eq!(created, creates as i64);
    let last_status: String =
        sqlx::query_scalar("SELECT operational_status FROM machines WHERE uid = $1")
            .bind(shared)
            .fetch_one(&promoted)
            .await
            .unwrap();
    assert_eq!(
        last_status,
        STATUSES[status_writes % 4],
        "the last status won"
    );
    println!(
        "on the new primary: {applied} writes applied once each ({} status writes, {expected_changes} changes, {creates} new machines; {} status changes queued behind another were sent within it)",
        sent_statuses.len(),
        folded.len()
    );

    // Live updates listen again, on the new primary: a change by a plain SQL client there
    // reaches the app within a second of its listening.
    tokio::time::timeout(Duration::from_secs(30), async {
        while !synced.live() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("listening again after the failover");
    let by_psql: Uuid = sqlx::query_scalar(
        "UPDATE machines SET operational_status = 'Down'
          WHERE machine_name = 'FO-001' RETURNING uid",
    )
    .fetch_one(&promoted)
    .await
    .unwrap();
    tokio::time::timeout(Duration::from_secs(1), async {
        while !heard.lock().unwrap().contains(&by_psql) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("a change on the new primary reached the app within 1 s");

    // A PC starting now, whose list begins with the server that is gone: its first calls (a
    // direct connection, then the pool) find the new primary within the deadline.
    let fresh = Registry::connect_lazy(&config);
    fresh.ensure_schema().await.unwrap();
    fresh.list_machines(&ListQuery::default()).await.unwrap();

    // The old primary started again as a primary (not made a standby: a split brain). A PC
    // that loses its connection looks again, finds two servers accepting writes, and stays
    // with the one its writes went to.
    pair.primary.start();
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE application_name LIKE 'mes-machine-manager@%'",
    )
    .execute(&promoted)
    .await
    .unwrap();
    let split = Uuid::new_v4();
    let mut outcome = None;
    for _ in 0..50 {
        let submitted = synced
            .submit(QueuedWrite::SetStatus(SetMachineStatus {
                write_id: split,
                uid: shared,
                status: "Idle".into(),
            }))
            .await;
        if let Ok(submitted) = submitted {
            outcome = Some(submitted);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(outcome.is_some(), "the write after the split was not taken");
    tokio::time::timeout(Duration::from_secs(30), async {
        while synced.status().pending > 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the write after the split was sent");
    let on_promoted: i64 =
        sqlx::query_scalar("SELECT count(*) FROM applied_writes WHERE write_id = $1")
            .bind(split)
            .fetch_one(&promoted)
            .await
            .unwrap();
    let old = PgPool::connect(&pair.primary.run(&["url", "mes"]))
        .await
        .unwrap();
    let on_old: i64 = sqlx::query_scalar("SELECT count(*) FROM applied_writes WHERE write_id = $1")
        .bind(split)
        .fetch_one(&old)
        .await
        .unwrap();
    old.close().await;
    assert_eq!(
        (on_promoted, on_old),
        (1, 0),
        "after a split brain the write went to the old primary"
    );

    synced.shutdown(Some(worker), Duration::from_secs(5)).await;
    promoted.close().await;
    let _ = std::fs::remove_dir_all(&folder);
}
