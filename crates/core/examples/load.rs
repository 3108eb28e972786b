//! `make load`: N simulated control-room PCs against one PostgreSQL, each with the app's real
//! core (its own pool of 3, outbox, sync worker, live listener, offline copy and alert watch),
//! doing what an operator's window does: a status change every ~10 s, a list refresh (page and
//! status counts side by side) every ~5 s, an edit every ~60 s. A third of the way in, 10 % of
//! the PCs lose the network for 15 s (a proxy cuts them), keep working offline, and replay their
//! queue when it comes back. Prints per operation p50/p99, the server connections in use, how
//! long a change took to reach the other PCs' windows, and where the CPU went.
//!
//! Environment: `MES_LOAD_URL` (a superuser URL to the server's `postgres` database; the
//! `mes_load` database is made anew for each N), `MES_LOAD_PCS` ("10 50 100 200"),
//! `MES_LOAD_SECONDS` (60). Not a test: it measures, it does not judge.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/shared/proxy.rs"]
mod proxy;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mes_core::config::{ConfigSource, DatabaseConfig};
use mes_core::domain::{ListQuery, MachineInput, SetMachineStatus, UpdateMachine};
use mes_core::sync::{Outbox, QueuedWrite, SyncedRegistry, WriteOutcome};
use mes_core::{Registry, MIGRATOR};
use proxy::Proxy;
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

const MACHINES_PER_PC: usize = 5;
const OTHER_MACHINES: usize = 1_000;
const OUTAGE: Duration = Duration::from_secs(15);
const WARM_UP: Duration = Duration::from_secs(15);
const STATUSES: [&str; 4] = ["Running", "Idle", "Maintenance", "Down"];

/// Latencies per operation, in milliseconds, from `from` on (after the warm-up).
struct Samples {
    all: Mutex<HashMap<&'static str, Vec<f64>>>,
    from: Instant,
}

impl Samples {
    fn add(&self, op: &'static str, ms: f64) {
        if Instant::now() < self.from {
            return;
        }
        if let Ok(mut all) = self.all.lock() {
            all.entry(op).or_default().push(ms);
        }
    }

    fn take(&self, op: &str) -> Vec<f64> {
        let mut values = self
            .all
            .lock()
            .map(|mut all| all.remove(op).unwrap_or_default())
            .unwrap_or_default();
        values.sort_by(f64::total_cmp);
        values
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// A small deterministic generator: each PC's schedule differs, every run is the same.
struct Jitter(u64);

impl Jitter {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A delay around `mean`: uniform from half to one and a half times it.
    fn around(&mut self, mean: Duration) -> Duration {
        mean.mul_f64(0.5 + self.next())
    }
}

/// When each machine's latest change was sent, by which PC: a notification's delay is measured
/// from there.
type Sent = Arc<Mutex<HashMap<Uuid, (Instant, usize)>>>;

struct Pc {
    synced: Arc<SyncedRegistry>,
    worker: tokio::task::JoinHandle<()>,
    proxy: Option<Arc<Proxy>>,
    machines: Vec<Uuid>,
}

fn machine_url(admin: &str, database: &str, port: Option<u16>) -> String {
    let mut url = url::Url::parse(admin).expect("MES_LOAD_URL is a URL");
    url.set_path(&format!("/{database}"));
    if let Some(port) = port {
        url.set_port(Some(port)).expect("a port");
    }
    url.to_string()
}

async fn prepare(admin: &str, pcs: usize) -> Vec<Vec<Uuid>> {
    let mut server = PgConnection::connect(admin).await.expect("the load server");
    sqlx::query("DROP DATABASE IF EXISTS mes_load WITH (FORCE)")
        .execute(&mut server)
        .await
        .expect("drop mes_load");
    sqlx::query("CREATE DATABASE mes_load")
        .execute(&mut server)
        .await
        .expect("create mes_load");
    let pool = sqlx::PgPool::connect(&machine_url(admin, "mes_load", None))
        .await
        .expect("mes_load");
    MIGRATOR.run(&pool).await.expect("migrate");
    let total = (pcs * MACHINES_PER_PC + OTHER_MACHINES) as i64;
    sqlx::query(
        "INSERT INTO machines (machine_name, machine_type, operational_status, efficiency, last_maintenance)
         SELECT 'L-' || lpad(g::text, 5, '0'),
                (ARRAY['Milling Machine','Robot Arm','Assembly Station','Lathe Machine','Press','Welder'])[1 + g % 6],
                'Running', 50 + g % 50, timestamptz '2026-01-01' + g * interval '1 hour'
         FROM generate_series(1, $1) AS g",
    )
    .bind(total)
    .execute(&pool)
    .await
    .expect("machines");
    sqlx::query("VACUUM ANALYZE machines")
        .execute(&pool)
        .await
        .expect("analyze");
    let uids: Vec<Uuid> = sqlx::query_scalar("SELECT uid FROM machines ORDER BY id LIMIT $1")
        .bind((pcs * MACHINES_PER_PC) as i64)
        .fetch_all(&pool)
        .await
        .expect("uids");
    pool.close().await;
    uids.chunks(MACHINES_PER_PC).map(<[Uuid]>::to_vec).collect()
}

async fn start_pc(
    index: usize,
    admin: &str,
    server: SocketAddr,
    machines: Vec<Uuid>,
    folder: &std::path::Path,
    sent: Sent,
    delays: Arc<Samples>,
) -> Pc {
    // One PC in ten goes through a proxy that can cut its network.
    let proxy = if index.is_multiple_of(10) {
        Some(Arc::new(Proxy::start(server).await))
    } else {
        None
    };
    let url = machine_url(admin, "mes_load", proxy.as_ref().map(|p| p.port));
    let config =
        DatabaseConfig::from_url(&url, ConfigSource::Environment, "MES_LOAD_URL").expect("config");
    let outbox = Outbox::open(&folder.join(format!("pc-{index:03}.sqlite3")))
        .await
        .expect("outbox");
    let synced = Arc::new(SyncedRegistry::new(
        Arc::new(Registry::connect_lazy(&config)),
        outbox,
    ));
    synced.set_live_listener(Arc::new(move |changes| {
        let now = Instant::now();
        let Ok(sent) = sent.lock() else { return };
        for change in changes {
            if let Some((at, from)) = change.uid.and_then(|uid| sent.get(&uid)) {
                if *from != index {
                    delays.add("notification", (now - *at).as_secs_f64() * 1e3);
                }
            }
        }
    }));
    let worker = tokio::spawn(synced.clone().run_supervised(Arc::new(|_| {})));
    Pc {
        synced,
        worker,
        proxy,
        machines,
    }
}

/// One operator's window until `end`.
async fn operate(
    index: usize,
    synced: Arc<SyncedRegistry>,
    machines: Vec<Uuid>,
    end: Instant,
    sent: Sent,
    samples: Arc<Samples>,
) {
    let mut jitter = Jitter(0x9E37_79B9_7F4A_7C15 ^ (index as u64 + 1).wrapping_mul(0x2545_F491));
    let start = Instant::now();
    let mut next_status = start + jitter.around(Duration::from_secs(10)) / 2;
    let mut next_list = start + jitter.around(Duration::from_secs(5)) / 2;
    let mut next_edit = start + jitter.around(Duration::from_secs(60)) / 2;
    let mut turn = index;
    loop {
        let next = next_status.min(next_list).min(next_edit);
        if next >= end {
            return;
        }
        tokio::time::sleep_until(tokio::time::Instant::from_std(next)).await;
        turn += 1;
        let uid = machines[turn % machines.len()];
        if next == next_status {
            next_status += jitter.around(Duration::from_secs(10));
            let began = Instant::now();
            if let Ok(mut sent) = sent.lock() {
                sent.insert(uid, (began, index));
            }
            let write = QueuedWrite::SetStatus(SetMachineStatus {
                write_id: Uuid::new_v4(),
                uid,
                status: STATUSES[turn % 4].into(),
            });
            match synced.submit(write).await {
                Ok(s) if matches!(s.outcome, WriteOutcome::Applied { .. }) => {
                    samples.add("status change", ms(began));
                }
                Ok(_) => {
                    samples.add("status change (offline, queued)", ms(began));
                    if let Ok(mut sent) = sent.lock() {
                        sent.remove(&uid);
                    }
                }
                Err(e) => samples.add(error_name(&e), ms(began)),
            }
        } else if next == next_list {
            next_list += jitter.around(Duration::from_secs(5));
            let began = Instant::now();
            let query = ListQuery::default();
            let (page, counts) =
                tokio::join!(synced.list_machines(&query), synced.status_counts(&query));
            match (page, counts) {
                (Ok(page), Ok(_)) if page.cached_at.is_none() => {
                    samples.add("list refresh (page + counts)", ms(began));
                }
                (Ok(_), Ok(_)) => samples.add("list refresh (offline copy)", ms(began)),
                (Err(e), _) | (_, Err(e)) => samples.add(error_name(&e), ms(began)),
            }
        } else {
            next_edit += jitter.around(Duration::from_secs(60));
            let began = Instant::now();
            let machine = match synced.get_machine(uid).await {
                Ok(machine) => machine,
                Err(e) => {
                    samples.add(error_name(&e), ms(began));
                    continue;
                }
            };
            let read = ms(began);
            let began = Instant::now();
            if let Ok(mut sent) = sent.lock() {
                sent.insert(uid, (began, index));
            }
            let write = QueuedWrite::Update(UpdateMachine {
                write_id: Uuid::new_v4(),
                uid,
                expected_version: machine.version,
                efficiency_seen: None,
                machine: MachineInput {
                    machine_name: machine.machine_name.clone(),
                    machine_type: machine.machine_type.clone(),
                    operational_status: machine.operational_status.as_str().into(),
                    efficiency: Some(40.0 + (turn % 60) as f64),
                    last_maintenance: machine
                        .last_maintenance
                        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                        .unwrap_or_else(|| "2026-01-01T00:00:00Z".into()),
                },
            });
            match synced.submit(write).await {
                Ok(s) if matches!(s.outcome, WriteOutcome::Applied { .. }) => {
                    samples.add("edit: read the machine", read);
                    samples.add("edit: save", ms(began));
                }
                Ok(_) => {
                    samples.add("edit (offline, queued)", ms(began));
                    // Announced when replayed, not now: not a notification delay.
                    if let Ok(mut sent) = sent.lock() {
                        sent.remove(&uid);
                    }
                }
                Err(e) => samples.add(error_name(&e), ms(began)),
            }
        }
    }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

fn error_name(error: &mes_core::error::RegistryError) -> &'static str {
    use mes_core::error::RegistryError::*;
    match error {
        Unavailable(_) => "error: unavailable",
        Busy(_) => "error: busy",
        StaleVersion { .. } => "error: stale version",
        _ => "error: other",
    }
}

/// CPU time: the whole machine's busy and total jiffies, and this process's.
fn cpu() -> (u64, u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    let total: u64 = fields.iter().sum();
    let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
    let own = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime and stime are 14th and 15th.
    let after = own.rsplit_once(')').map_or("", |(_, rest)| rest);
    let parts: Vec<&str> = after.split_whitespace().collect();
    let field = |n: usize| -> u64 {
        // `after` starts at field 3 (the state).
        parts.get(n - 3).and_then(|f| f.parse().ok()).unwrap_or(0)
    };
    let own_time = field(14) + field(15);
    (total - idle, total, own_time)
}

struct Report {
    pcs: usize,
    rows: Vec<(String, usize, f64, f64)>,
    connections_max: i64,
    connections_mean: f64,
    active_max: i64,
    cpu_busy: f64,
    cpu_generator: f64,
    replay_ms: Vec<f64>,
    replayed: i64,
}

async fn run(admin: &str, pcs: usize, seconds: u64) -> Report {
    let machines = prepare(admin, pcs).await;
    let parsed = url::Url::parse(admin).expect("url");
    let host = parsed.host_str().unwrap_or("127.0.0.1");
    let server: SocketAddr = tokio::net::lookup_host((host, parsed.port().unwrap_or(5432)))
        .await
        .expect("server address")
        .next()
        .expect("an address");
    let folder = std::env::temp_dir().join(format!("mes-load-{}-{pcs}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).expect("outbox folder");
    let sent: Sent = Arc::default();
    // The PCs work for a warm-up first, unmeasured: their pools grow to what they use (each
    // new connection is a SCRAM sign-in and a server process), as in a plant whose PCs started
    // at different times.
    let samples = Arc::new(Samples {
        all: Mutex::default(),
        from: Instant::now() + Duration::from_secs(3) + WARM_UP,
    });
    let mut all = Vec::new();
    for (index, own) in machines.into_iter().enumerate() {
        all.push(
            start_pc(
                index,
                admin,
                server,
                own,
                &folder,
                sent.clone(),
                samples.clone(),
            )
            .await,
        );
    }
    // Every PC signed in and listening before the clock starts.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let begin = Instant::now() + WARM_UP;
    let end = begin + Duration::from_secs(seconds);
    let operators: Vec<_> = all
        .iter()
        .enumerate()
        .map(|(index, pc)| {
            tokio::spawn(operate(
                index,
                pc.synced.clone(),
                pc.machines.clone(),
                end,
                sent.clone(),
                samples.clone(),
            ))
        })
        .collect();

    // The connections in use, once a second, from a connection of the monitor's own.
    let mut monitor = PgConnection::connect(admin).await.expect("monitor");
    let mut connections = Vec::new();
    let mut active_max = 0;
    // A third of the way in, the cut PCs lose the network for a while, then replay their queue.
    let cut: Vec<(Arc<Proxy>, Arc<SyncedRegistry>)> = all
        .iter()
        .filter_map(|pc| pc.proxy.clone().map(|proxy| (proxy, pc.synced.clone())))
        .collect();
    let outage = tokio::spawn(async move {
        tokio::time::sleep_until(tokio::time::Instant::from_std(
            begin + Duration::from_secs(seconds / 3),
        ))
        .await;
        for (proxy, _) in &cut {
            proxy.down();
        }
        tokio::time::sleep(OUTAGE).await;
        let queued: i64 = cut.iter().map(|(_, pc)| pc.status().pending).sum();
        for (proxy, _) in &cut {
            proxy.up();
        }
        let over = Instant::now();
        // How long each cut PC takes to empty its outbox (its worker notices on its own).
        let mut replay_ms = Vec::new();
        let mut left: Vec<&Arc<SyncedRegistry>> = cut.iter().map(|(_, pc)| pc).collect();
        while !left.is_empty() && over.elapsed() < Duration::from_secs(60) {
            left.retain(|pc| {
                if pc.status().pending == 0 {
                    replay_ms.push(ms(over));
                    false
                } else {
                    true
                }
            });
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        (replay_ms, queued)
    });
    tokio::time::sleep_until(tokio::time::Instant::from_std(begin)).await;
    let cpu_before = cpu();
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (total, active): (i64, i64) = sqlx::query_as(
            "SELECT count(*), count(*) FILTER (WHERE state = 'active')
               FROM pg_stat_activity WHERE datname = 'mes_load' AND pid <> pg_backend_pid()",
        )
        .fetch_one(&mut monitor)
        .await
        .expect("pg_stat_activity");
        connections.push(total);
        active_max = active_max.max(active);
    }
    let (mut replay_ms, replayed) = outage.await.unwrap_or_default();
    for operator in operators {
        let _ = operator.await;
    }
    let cpu_after = cpu();
    // Notifications of the last changes arrive after the operators stop.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ops = [
        "status change",
        "list refresh (page + counts)",
        "edit: read the machine",
        "edit: save",
        "notification",
        "status change (offline, queued)",
        "list refresh (offline copy)",
        "edit (offline, queued)",
        "error: unavailable",
        "error: busy",
        "error: stale version",
        "error: other",
    ];
    let rows = ops
        .iter()
        .map(|op| {
            let values = samples.take(op);
            (
                (*op).to_owned(),
                values.len(),
                quantile(&values, 0.5),
                quantile(&values, 0.99),
            )
        })
        .filter(|(_, n, _, _)| *n > 0)
        .collect();
    for pc in all {
        pc.synced
            .shutdown(Some(pc.worker), Duration::from_secs(5))
            .await;
        pc.synced.registry().pool().close().await;
    }
    let _ = std::fs::remove_dir_all(&folder);
    replay_ms.sort_by(f64::total_cmp);
    let jiffies = (cpu_after.1 - cpu_before.1).max(1) as f64;
    Report {
        pcs,
        rows,
        connections_max: connections.iter().copied().max().unwrap_or(0),
        connections_mean: connections.iter().sum::<i64>() as f64 / connections.len().max(1) as f64,
        active_max,
        cpu_busy: (cpu_after.0 - cpu_before.0) as f64 / jiffies,
        // Per-process jiffies count one core each; the machine's total counts all of them.
        cpu_generator: (cpu_after.2 - cpu_before.2) as f64 / jiffies,
        replay_ms,
        replayed,
    }
}

fn print(report: &Report) {
    println!(
        "\n## N = {} PCs ({} machines; server connections: max {}, mean {:.0}, at most {} active at a sample)",
        report.pcs,
        report.pcs * MACHINES_PER_PC + OTHER_MACHINES,
        report.connections_max,
        report.connections_mean,
        report.active_max
    );
    println!("| operation | count | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|");
    for (op, n, p50, p99) in &report.rows {
        println!("| {op} | {n} | {p50:.2} | {p99:.2} |");
    }
    if !report.replay_ms.is_empty() {
        println!(
            "| replay after the 15 s outage of {} PCs ({} queued writes): until the outbox is empty | {} | {:.0} | {:.0} |",
            report.replay_ms.len(),
            report.replayed,
            report.replay_ms.len(),
            quantile(&report.replay_ms, 0.5),
            quantile(&report.replay_ms, 0.99)
        );
    }
    println!(
        "CPU: the machine {:.0} % busy; the load generator (all simulated PCs) {:.0} % of it, the server and the rest {:.0} %",
        report.cpu_busy * 100.0,
        report.cpu_generator * 100.0,
        (report.cpu_busy - report.cpu_generator).max(0.0) * 100.0
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "off".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let admin = std::env::var("MES_LOAD_URL").expect("MES_LOAD_URL (scripts/load.sh sets it)");
    let counts: Vec<usize> = std::env::var("MES_LOAD_PCS")
        .unwrap_or_else(|_| "10 50 100 200".into())
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    let seconds: u64 = std::env::var("MES_LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60)
        .max(30);
    println!(
        "# Load: simulated control-room PCs, {seconds} s measured after a {} s warm-up (status change ~10 s, list ~5 s, edit ~60 s per PC; 10 % cut for 15 s at a third)",
        WARM_UP.as_secs()
    );
    for pcs in counts {
        let report = run(&admin, pcs, seconds).await;
        print(&report);
    }
}
