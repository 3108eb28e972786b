//! Chaos: two headless app instances (separate processes, each with its own outbox, as two
//! control-room PCs on the same core and sync worker as the app) make a randomized schedule of
//! writes of every kind on shared and own machines while the database is stopped and started,
//! the network freezes and thaws or is cut, and an instance is SIGKILLed (idle, mid-request or
//! mid-replay) and restarted. At the end the database must equal a model of the intended writes:
//! none lost, none applied twice, every rejected write needing attention with its reason, both
//! instances still answering. The seed and the counts are printed (`MES_CHAOS_SEED` replays one).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../shared/cluster.rs"]
mod cluster;
#[path = "../shared/proxy.rs"]
mod proxy;

use cluster::Cluster;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use mes_core::domain::{
    CreateMachine, DeleteMachine, MachineInput, SetMachineStatus, UpdateMachine,
};
use mes_core::sync::{Conflict, Enqueued, OutboxEntry, QueuedWrite, Submitted, SyncStatus};
use mes_core::{DatabaseConfig, Registry, MIGRATOR};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};
use uuid::Uuid;

const WRITES: usize = 2400;
const SHARED: usize = 8;
const BLOCK: usize = 200;

/// One headless app instance.
struct Agent {
    name: &'static str,
    url: String,
    outbox: PathBuf,
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Agent {
    fn spawn(name: &'static str, url: &str, outbox: PathBuf) -> Agent {
        // Each PC's log, kept beside its outbox (the expected conflicts are logged as errors).
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(outbox.with_extension("log"))
            .expect("agent log");
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_mes-agent"))
            .env("MES_DATABASE_URL", url)
            .env("MES_DB_DEADLINE_SECS", "1")
            .env("MES_AGENT_OUTBOX", &outbox)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .expect("start mes-agent");
        let stdin = child.stdin.take().unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Agent {
            name,
            url: url.to_owned(),
            outbox,
            child,
            stdin,
            lines,
        }
    }

    async fn send(&mut self, request: &serde_json::Value) {
        let mut line = request.to_string();
        line.push('\n');
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        self.stdin.flush().await.unwrap();
    }

    async fn request(&mut self, request: serde_json::Value) -> serde_json::Value {
        match self.answer(request).await {
            Ok(ok) => ok,
            Err(e) => panic!("{} refused: {e}", self.name),
        }
    }

    /// The answer to one request: `ok`, or the error the app would show the operator.
    async fn answer(&mut self, request: serde_json::Value) -> Result<serde_json::Value, String> {
        self.send(&request).await;
        let line = tokio::time::timeout(Duration::from_secs(30), self.lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("{} did not answer {request}", self.name))
            .unwrap()
            .unwrap_or_else(|| panic!("{} ended", self.name));
        let answer: serde_json::Value = serde_json::from_str(&line).unwrap();
        match (answer.get("ok"), answer.get("err")) {
            (Some(ok), _) => Ok(ok.clone()),
            (None, Some(err)) => Err(err.to_string()),
            _ => panic!("{}: a malformed answer {answer}", self.name),
        }
    }

    /// Applied or queued, or refused at once with an error for the operator (a name taken, a
    /// machine changed or deleted by someone else: nothing was changed).
    async fn submit(&mut self, write: &QueuedWrite) -> Result<Submitted, String> {
        let answer = self
            .answer(serde_json::json!({ "op": "submit", "write": write }))
            .await?;
        Ok(serde_json::from_value(answer).unwrap())
    }

    async fn status(&mut self) -> SyncStatus {
        serde_json::from_value(self.request(serde_json::json!({ "op": "status" })).await).unwrap()
    }

    async fn attention(&mut self) -> Vec<OutboxEntry> {
        serde_json::from_value(self.request(serde_json::json!({ "op": "attention" })).await)
            .unwrap()
    }

    /// SIGKILL, then the same PC starts the app again on its outbox.
    async fn kill_and_restart(&mut self) {
        self.child.start_kill().unwrap();
        self.child.wait().await.unwrap();
        *self = Agent::spawn(self.name, &self.url.clone(), self.outbox.clone());
    }
}

/// A small deterministic generator (xorshift64*), so a seed replays the same schedule.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[derive(Clone)]
struct Known {
    uid: Uuid,
    name: String,
    version: i64,
    status: String,
    alive: bool,
}

/// One PC's window: what it knows of its own machines and the shared ones.
struct View {
    own: Vec<Known>,
    shared: Vec<Known>,
    created: usize,
    duplicates: usize,
}

const STATUSES: [&str; 4] = ["Running", "Idle", "Maintenance", "Down"];

fn machine(name: &str, status: &str, efficiency: f64) -> MachineInput {
    MachineInput {
        machine_name: name.into(),
        machine_type: "Press".into(),
        operational_status: status.into(),
        efficiency: Some(efficiency),
        last_maintenance: "2024-01-10T08:00:00Z".into(),
    }
}

/// The next write an operator at this PC makes.
fn next_write(
    view: &mut View,
    prefix: &str,
    n: usize,
    rng: &mut Rng,
) -> (QueuedWrite, Option<(bool, usize)>) {
    let efficiency = (n % 100) as f64 + 0.25;
    let alive: Vec<usize> = (0..view.own.len()).filter(|&i| view.own[i].alive).collect();
    let roll = rng.below(100);
    let status = STATUSES[rng.below(4)];
    if roll < 15 || alive.len() < 3 {
        view.created += 1;
        let name = format!("{prefix}-{}", view.created);
        let uid = Uuid::new_v4();
        view.own.push(Known {
            uid,
            name: name.clone(),
            version: 1,
            status: status.into(),
            alive: true,
        });
        let write = QueuedWrite::Create(CreateMachine {
            write_id: Uuid::new_v4(),
            uid,
            machine: machine(&name, status, efficiency),
        });
        return (write, Some((true, view.own.len() - 1)));
    }
    if roll < 20 {
        // Both PCs create the same names in turn: one of each pair is refused (name taken).
        view.duplicates += 1;
        let name = format!("DUP-{}", view.duplicates);
        let write = QueuedWrite::Create(CreateMachine {
            write_id: Uuid::new_v4(),
            uid: Uuid::new_v4(),
            machine: machine(&name, status, efficiency),
        });
        return (write, None);
    }
    let (pool, own) = if roll < 70 {
        (&mut view.own, true)
    } else {
        (&mut view.shared, false)
    };
    let index = if own {
        alive[rng.below(alive.len())]
    } else {
        rng.below(pool.len())
    };
    let known = &mut pool[index];
    let write = if roll < 40 || (70..88).contains(&roll) {
        known.status = status.into();
        QueuedWrite::SetStatus(SetMachineStatus {
            write_id: Uuid::new_v4(),
            uid: known.uid,
            status: status.into(),
        })
    } else if !(66..88).contains(&roll) {
        QueuedWrite::Update(UpdateMachine {
            write_id: Uuid::new_v4(),
            uid: known.uid,
            expected_version: known.version,
            efficiency_seen: None,
            machine: machine(&known.name, &known.status, efficiency),
        })
    } else {
        known.alive = false;
        QueuedWrite::Delete(DeleteMachine {
            write_id: Uuid::new_v4(),
            uid: known.uid,
            expected_version: known.version,
        })
    };
    (write, Some((own, index)))
}

#[derive(Clone, Copy, Debug)]
enum Event {
    Freeze,
    DatabaseStopped,
    Cut,
    KillMidRequest,
    KillMidReplay,
}

const EVENTS: [Event; 5] = [
    Event::Freeze,
    Event::DatabaseStopped,
    Event::KillMidRequest,
    Event::Cut,
    Event::KillMidReplay,
];

/// A row of `applied_writes`: write id, machine, kind, version before and after.
type AppliedRow = (Uuid, Uuid, String, Option<i64>, Option<i64>);

struct Sent {
    agent: usize,
    write: QueuedWrite,
    /// `None`: the PC died before answering; `Some(Err)`: refused at once, shown to the operator.
    answer: Option<Result<Submitted, String>>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_two_pcs_through_outages_freezes_and_kills_lose_nothing_and_double_nothing() {
    let started = Instant::now();
    let seed: u64 = std::env::var("MES_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    println!("chaos seed: {seed} (MES_CHAOS_SEED={seed} replays this schedule)");
    let mut rng = Rng(seed);

    let cluster = Cluster::new("chaos");
    cluster.start();
    let direct_url = cluster.run(&["url", "mes"]);
    let direct = DatabaseConfig::from_url(
        &direct_url,
        mes_core::config::ConfigSource::Environment,
        "chaos",
    )
    .unwrap();
    let pool = sqlx::PgPool::connect_with(direct.options().clone())
        .await
        .unwrap();
    MIGRATOR.run(&pool).await.unwrap();
    sqlx::query("TRUNCATE machines, applied_writes")
        .execute(&pool)
        .await
        .unwrap();
    let seeder = Registry::from_pool(pool.clone(), direct.target().clone());
    let mut shared = Vec::new();
    for i in 0..SHARED {
        let created = seeder
            .create_machine(&CreateMachine {
                write_id: Uuid::new_v4(),
                uid: Uuid::new_v4(),
                machine: machine(&format!("S-{i}"), "Running", 50.0),
            })
            .await
            .unwrap();
        shared.push(Known {
            uid: created.uid,
            name: created.machine_name,
            version: 1,
            status: "Running".into(),
            alive: true,
        });
    }
    let seeded: HashMap<Uuid, (String, String, f64)> = shared
        .iter()
        .map(|k| (k.uid, (k.name.clone(), "Running".to_owned(), 50.0)))
        .collect();

    let proxy = proxy::Proxy::start(format!("127.0.0.1:{}", cluster.port).parse().unwrap()).await;
    let via_proxy =
        direct_url.replace(&format!(":{}/", cluster.port), &format!(":{}/", proxy.port));
    let work = cluster.dir.join("pcs");
    std::fs::create_dir_all(&work).unwrap();
    let mut agents = [
        Agent::spawn("PC-A", &via_proxy, work.join("a.sqlite3")),
        Agent::spawn("PC-B", &via_proxy, work.join("b.sqlite3")),
    ];
    let mut views = [
        View {
            own: Vec::new(),
            shared: shared.clone(),
            created: 0,
            duplicates: 0,
        },
        View {
            own: Vec::new(),
            shared,
            created: 0,
            duplicates: 0,
        },
    ];

    let mut sent: Vec<Sent> = Vec::new();
    let mut kills = 0;
    let mut events_seen = Vec::new();
    for n in 0..WRITES {
        if n % BLOCK == 0 && n > 0 {
            let event = EVENTS[(n / BLOCK - 1) % EVENTS.len()];
            events_seen.push(format!("{event:?}"));
            match event {
                Event::Freeze => proxy.freeze(),
                Event::DatabaseStopped => cluster.stop(),
                Event::Cut => proxy.down(),
                Event::KillMidRequest => {
                    // A write is sent and the PC dies before answering: unacknowledged.
                    let victim = rng.below(2);
                    let (write, _) = next_write(
                        &mut views[victim],
                        if victim == 0 { "A" } else { "B" },
                        n,
                        &mut rng,
                    );
                    agents[victim]
                        .send(&serde_json::json!({ "op": "submit", "write": write }))
                        .await;
                    tokio::time::sleep(Duration::from_millis(rng.below(5) as u64)).await;
                    agents[victim].kill_and_restart().await;
                    kills += 1;
                    sent.push(Sent {
                        agent: victim,
                        write,
                        answer: None,
                    });
                }
                Event::KillMidReplay => proxy.down(),
            }
        }
        if n % BLOCK == BLOCK / 2 && n > BLOCK {
            let event = EVENTS[(n / BLOCK - 1) % EVENTS.len()];
            match event {
                Event::Freeze | Event::Cut => proxy.up(),
                Event::DatabaseStopped => cluster.start(),
                Event::KillMidRequest => {}
                Event::KillMidReplay => {
                    // Back: both PCs replay what they queued; one dies in the middle of it.
                    proxy.up();
                    let victim = rng.below(2);
                    tokio::time::sleep(Duration::from_millis(1000 + rng.below(1500) as u64)).await;
                    agents[victim].kill_and_restart().await;
                    kills += 1;
                }
            }
        }
        let a = rng.below(2);
        let (write, known) = next_write(&mut views[a], if a == 0 { "A" } else { "B" }, n, &mut rng);
        let answer = agents[a].submit(&write).await;
        if let (
            Ok(Submitted {
                outcome: mes_core::sync::WriteOutcome::Applied { machine },
                ..
            }),
            Some((own, index)),
        ) = (&answer, known)
        {
            let list = if own {
                &mut views[a].own
            } else {
                &mut views[a].shared
            };
            list[index].version = machine.version;
        }
        sent.push(Sent {
            agent: a,
            write,
            answer: Some(answer),
        });
    }

    // Everything back; both PCs sync.
    proxy.up();
    cluster.start();
    let deadline = Instant::now() + Duration::from_secs(60);
    for agent in agents.iter_mut() {
        loop {
            let status = agent.status().await;
            if status.pending == 0 && status.connection == mes_core::sync::Connection::Online {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not sync: {status:?}",
                agent.name
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // ---- The model ----
    let mut attention: HashMap<Uuid, Conflict> = HashMap::new();
    for agent in agents.iter_mut() {
        for entry in agent.attention().await {
            attention.insert(
                entry.write.write_id(),
                entry.conflict.clone().expect("a reason"),
            );
        }
    }
    let applied: Vec<AppliedRow> = sqlx::query_as(
        "SELECT write_id, machine_uid, kind, version_before, version_after FROM applied_writes",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let recorded: HashSet<Uuid> = applied.iter().map(|a| a.0).collect();
    let rows: Vec<(Uuid, String, String, f64, i64)> = sqlx::query_as(
        "SELECT uid, machine_name, operational_status, efficiency, version FROM machines",
    )
    .fetch_all(&pool)
    .await
    .unwrap();

    // Folds: writes merged into another (their effect travels with it), and writes voided by
    // an offline delete (superseded or cancelled together with it).
    let mut folded_into: HashMap<Uuid, Uuid> = HashMap::new();
    let mut group: HashMap<Uuid, Vec<QueuedWrite>> = HashMap::new();
    let mut voided: HashMap<Uuid, Uuid> = HashMap::new();
    for s in &sent {
        let Some(Ok(answer)) = &s.answer else {
            continue;
        };
        let id = s.write.write_id();
        match &answer.enqueued {
            Some(Enqueued::FoldedInto { into }) => {
                folded_into.insert(id, *into);
                group.entry(*into).or_default().push(s.write.clone());
            }
            Some(Enqueued::Superseded { dropped }) => {
                for d in dropped {
                    voided.insert(*d, id);
                }
            }
            Some(Enqueued::Cancelled { dropped }) => {
                voided.insert(id, id);
                for d in dropped {
                    voided.insert(*d, id);
                }
            }
            _ => {}
        }
    }
    // A PC's own machines are written by it alone: none of its writes there may be refused.
    let own: HashSet<(usize, Uuid)> = views
        .iter()
        .enumerate()
        .flat_map(|(a, v)| v.own.iter().map(move |k| (a, k.uid)))
        .collect();
    let mut own_rejected = Vec::new();
    let settled =
        |id: &Uuid| recorded.contains(id) || attention.contains_key(id) || voided.contains_key(id);
    // A PC killed mid-request on a delete may have queued it durably before answering: it then
    // superseded the machine's unsent writes from that PC (the delete itself was replayed: it
    // is recorded or needs attention), or, for a machine created offline and never sent,
    // cancelled the create with them (then nothing of that machine is recorded).
    let created_on_server: HashSet<Uuid> = applied
        .iter()
        .filter(|a| a.2 == "create")
        .map(|a| a.1)
        .collect();
    // Only a write the PC said it queued can have been dropped by such a delete (one applied
    // online is recorded; one queued as possibly sent is never dropped, but it is recorded or
    // needs attention once replayed).
    let queued = |write_id: Uuid| {
        sent.iter().any(|s| {
            s.write.write_id() == write_id
                && matches!(
                    &s.answer,
                    Some(Ok(Submitted {
                        outcome: mes_core::sync::WriteOutcome::Queued { .. },
                        enqueued: Some(Enqueued::Appended | Enqueued::FoldedInto { .. }),
                    }))
                )
        })
    };
    let unanswered_delete_after = |index: usize, write_id: Uuid| {
        let agent = sent[index].agent;
        let uid = sent[index].write.machine_uid();
        if !queued(write_id) {
            return None;
        }
        // Cancelled with the machine's create, which this PC queued and never sent.
        let created_queued = sent[..index].iter().any(|s| {
            s.agent == agent
                && s.write.machine_uid() == uid
                && matches!(s.write, QueuedWrite::Create(_))
                && queued(s.write.write_id())
        });
        sent[index + 1..].iter().find_map(|later| {
            let QueuedWrite::Delete(delete) = &later.write else {
                return None;
            };
            if later.answer.is_some() || later.agent != agent || delete.uid != uid {
                return None;
            }
            let replayed =
                recorded.contains(&delete.write_id) || attention.contains_key(&delete.write_id);
            let cancelled = !replayed && !created_on_server.contains(&uid) && created_queued;
            match (replayed, cancelled) {
                (true, _) => Some("superseded by a delete the PC was killed answering"),
                (_, true) => Some("cancelled by a delete the PC was killed answering"),
                _ => None,
            }
            .filter(|_| !recorded.contains(&write_id))
        })
    };
    let mut counts: HashMap<&str, usize> = HashMap::new();
    let mut lost = Vec::new();
    for (index, s) in sent.iter().enumerate() {
        let id = s.write.write_id();
        let rejected = attention.contains_key(&id) || matches!(s.answer, Some(Err(_)));
        if rejected && own.contains(&(s.agent, s.write.machine_uid())) {
            own_rejected.push((
                s.write.clone(),
                attention.get(&id).cloned(),
                s.answer.clone(),
            ));
        }
        let kind = if s.answer.is_none() {
            "unacknowledged (PC killed mid-request)"
        } else if let Some(Err(error)) = &s.answer {
            assert!(!recorded.contains(&id), "refused yet applied: {error}");
            assert!(
                ["already exists", "changed since", "not found"]
                    .iter()
                    .any(|e| error.contains(e)),
                "refused for a reason a correct schedule cannot cause: {error}"
            );
            "refused at once (the operator was told; nothing changed)"
        } else if recorded.contains(&id) {
            assert!(
                !attention.contains_key(&id),
                "applied yet shown as needing attention: {id}"
            );
            "applied"
        } else if let Some(conflict) = attention.get(&id) {
            assert!(
                matches!(conflict, Conflict::ChangedSince { .. } | Conflict::NameTaken { .. } | Conflict::MachineDeleted),
                "a write needs attention for a reason a correct schedule cannot cause: {conflict:?}"
            );
            "rejected, needing attention"
        } else if let Some(into) = folded_into.get(&id) {
            if settled(into) {
                "folded into another write"
            } else if let Some(kind) = unanswered_delete_after(index, *into) {
                kind
            } else {
                lost.push((s.agent, s.write.clone(), s.answer.clone()));
                "LOST"
            }
        } else if voided.contains_key(&id) {
            "superseded or cancelled by an offline delete"
        } else if let Some(kind) = unanswered_delete_after(index, id) {
            kind
        } else {
            lost.push((s.agent, s.write.clone(), s.answer.clone()));
            "LOST"
        };
        *counts.entry(kind).or_default() += 1;
    }

    // Applied twice: every machine's version moved on only by recorded writes, one step each.
    let mut chains: HashMap<Uuid, Vec<(i64, i64, Uuid)>> = HashMap::new();
    for (write_id, uid, kind, before, after) in &applied {
        if kind != "create" {
            if let Some(before) = before {
                chains.entry(*uid).or_default().push((
                    *before,
                    after.unwrap_or(i64::MAX),
                    *write_id,
                ));
            }
        }
    }
    // An edit applied on top of a version other than its own passed over changes of its own PC
    // only: every step between the version it was based on and the one it changed was made by a
    // write of the same PC.
    let agent_of: HashMap<Uuid, usize> =
        sent.iter().map(|s| (s.write.write_id(), s.agent)).collect();
    let step_by: HashMap<(Uuid, i64), Uuid> = applied
        .iter()
        .filter(|(_, _, kind, before, after)| {
            kind != "create" && before.is_some() && *after == before.map(|b| b + 1)
        })
        .map(|(id, uid, _, before, _)| ((*uid, before.unwrap_or_default()), *id))
        .collect();
    let mut passed_over_others = 0;
    for (write_id, uid, kind, before, _) in &applied {
        let Some(QueuedWrite::Update(update)) = sent
            .iter()
            .find(|s| s.write.write_id() == *write_id)
            .map(|s| &s.write)
        else {
            continue;
        };
        let (Some(before), "update") = (before, kind.as_str()) else {
            continue;
        };
        for step in update.expected_version..*before {
            let by = step_by.get(&(*uid, step)).and_then(|id| agent_of.get(id));
            if by != agent_of.get(write_id) {
                passed_over_others += 1;
                eprintln!(
                    "edit {write_id} based on version {} passed over step {step} made by {by:?}",
                    update.expected_version
                );
            }
        }
    }
    let mut doubled = 0;
    for (uid, _, _, _, version) in &rows {
        let steps: Vec<i64> = chains
            .get(uid)
            .map(|c| {
                c.iter()
                    .filter(|(b, a, _)| *a == b + 1)
                    .map(|(b, _, _)| *b)
                    .collect()
            })
            .unwrap_or_default();
        let distinct: HashSet<i64> = steps.iter().copied().collect();
        if distinct.len() != steps.len() || steps.len() as i64 != version - 1 {
            doubled += 1;
            eprintln!("machine {uid}: version {version} but recorded steps {steps:?}");
        }
    }

    // The database equals the intended writes applied in the server's order.
    let payloads: HashMap<Uuid, &QueuedWrite> = sent
        .iter()
        .map(|s| (s.write.write_id(), &s.write))
        .collect();
    // The model, for a given set of folds (writes merged into another, applied after it).
    let model_with = |group: &HashMap<Uuid, Vec<QueuedWrite>>| {
        let mut model: HashMap<Uuid, Option<(String, String, f64)>> =
            seeded.iter().map(|(u, r)| (*u, Some(r.clone()))).collect();
        let mut ordered: Vec<&AppliedRow> = applied.iter().collect();
        ordered.sort_by_key(|(_, _, _, before, after)| {
            (before.unwrap_or(-1), after.unwrap_or(i64::MAX))
        });
        for (write_id, uid, _, _, _) in ordered {
            let Some(write) = payloads.get(write_id) else {
                continue;
            };
            let mut effects = vec![(*write).clone()];
            effects.extend(group.get(write_id).cloned().unwrap_or_default());
            let row = model.entry(*uid).or_insert(None);
            for effect in effects {
                match effect {
                    QueuedWrite::Create(w) => {
                        *row = Some((
                            w.machine.machine_name,
                            w.machine.operational_status,
                            w.machine.efficiency.unwrap_or_default(),
                        ))
                    }
                    QueuedWrite::Update(w) => {
                        *row = Some((
                            w.machine.machine_name,
                            w.machine.operational_status,
                            w.machine.efficiency.unwrap_or_default(),
                        ))
                    }
                    QueuedWrite::SetStatus(w) => {
                        if let Some(r) = row.as_mut() {
                            r.1 = w.status;
                        }
                    }
                    QueuedWrite::Delete(_) => *row = None,
                    // Not made here (a shift entry moves the efficiency and the version: the
                    // shift tests cover it; this model follows the machine writes).
                    QueuedWrite::PlanMaintenance(_)
                    | QueuedWrite::RecordMaintenance(_)
                    | QueuedWrite::RecordShift(_) => {}
                }
            }
        }
        model
    };
    let model = model_with(&group);
    // A PC killed mid-request may have queued its write durably (folded into an earlier unsent
    // write of the same machine) before it could answer: unacknowledged, it may or may not have
    // applied. The other outcome is the model where it folded into that PC's last write of the
    // machine it can fold into (a create or an edit; for a status change, also a status change).
    let mut maybe_group = group.clone();
    for (index, s) in sent.iter().enumerate() {
        if s.answer.is_some()
            || !matches!(s.write, QueuedWrite::Update(_) | QueuedWrite::SetStatus(_))
        {
            continue;
        }
        let status = matches!(s.write, QueuedWrite::SetStatus(_));
        let target = sent[..index].iter().rev().find(|earlier| {
            earlier.agent == s.agent
                && earlier.write.machine_uid() == s.write.machine_uid()
                && (matches!(
                    earlier.write,
                    QueuedWrite::Create(_) | QueuedWrite::Update(_)
                ) || (status && matches!(earlier.write, QueuedWrite::SetStatus(_))))
        });
        if let Some(target) = target {
            let into = folded_into
                .get(&target.write.write_id())
                .copied()
                .unwrap_or_else(|| target.write.write_id());
            maybe_group.entry(into).or_default().push(s.write.clone());
        }
    }
    let folded_unanswered = model_with(&maybe_group);
    let actual: HashMap<Uuid, (String, String, f64)> = rows
        .iter()
        .map(|(u, n, s, e, _)| (*u, (n.clone(), s.clone(), *e)))
        .collect();
    let mut differing = 0;
    for (uid, expected) in &model {
        let found = actual.get(uid);
        if expected.as_ref() != found
            && folded_unanswered.get(uid).and_then(|row| row.as_ref()) != found
        {
            differing += 1;
            eprintln!("machine {uid}: model {expected:?}, database {found:?}");
        }
    }
    for uid in actual.keys() {
        if !model.contains_key(uid) {
            differing += 1;
            eprintln!("machine {uid} exists but no write made it");
        }
    }

    // Both PCs still answer.
    for agent in agents.iter_mut() {
        agent.status().await;
    }
    let mut summary: Vec<_> = counts.into_iter().collect();
    summary.sort();
    println!(
        "chaos: seed {seed}, {} writes sent by 2 PCs, {} machines at the end, events {:?}, {kills} kills, {:.1} s",
        sent.len(),
        rows.len(),
        events_seen,
        started.elapsed().as_secs_f32()
    );
    for (kind, count) in &summary {
        println!("chaos:   {count:>5}  {kind}");
    }
    println!(
        "chaos: lost {}, applied twice {doubled}, rows differing from the model {differing}",
        lost.len()
    );
    println!(
        "chaos: own writes rejected {}, edits passing over another PC's change {passed_over_others}",
        own_rejected.len()
    );
    // Each lost write's machine: every write sent for it, what it was told, where it ended.
    for (_, write, _) in &lost {
        for (index, s) in sent.iter().enumerate() {
            if s.write.machine_uid() == write.machine_uid() {
                let id = s.write.write_id();
                eprintln!(
                    "  #{index} PC {} {} {id}: answer {:?}; recorded {}, attention {:?}, folded into {:?}, voided by {:?}",
                    s.agent,
                    s.write.kind(),
                    s.answer,
                    recorded.contains(&id),
                    attention.get(&id),
                    folded_into.get(&id),
                    voided.get(&id),
                );
            }
        }
    }
    assert!(lost.is_empty(), "seed {seed}: lost writes: {lost:?}");
    assert!(
        own_rejected.is_empty(),
        "a PC's own writes conflicted: {own_rejected:?}"
    );
    assert_eq!(doubled, 0, "seed {seed}: writes applied twice");
    assert_eq!(
        passed_over_others, 0,
        "an edit passed over another PC's change"
    );
    assert_eq!(differing, 0, "seed {seed}: database differs from the model");
    assert!(sent.len() >= 2000);
}
