//! Behind PgBouncer (Debian's 1.18) in session mode: it refuses settings sent at connection
//! start, so without `pgbouncer = true` the app says what to set; with it, reads, writes, the
//! deadlines on the server side and live updates (LISTEN holds its session) all work.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::cluster::{free_port, Cluster};
use mes_core::config::DatabaseConfig;
use mes_core::domain::{CreateMachine, ListQuery, MachineInput, SetMachineStatus};
use mes_core::error::{RegistryError, POOLER_REFUSED_SETTINGS};
use mes_core::sync::{Outbox, QueuedWrite, SyncedRegistry, WriteOutcome};
use mes_core::{Registry, MIGRATOR};
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

/// A PgBouncer in front of `cluster`, authenticating the cluster's user with its SCRAM secret.
struct Bouncer {
    child: Child,
    port: u16,
}

impl Bouncer {
    async fn start(cluster: &Cluster, mode: &str) -> Bouncer {
        let binary = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("pgbouncer is installed (scripts/setup.sh test installs Debian's package)");
        let direct = cluster.run(&["url", "mes"]);
        let mut admin = PgConnection::connect(&direct).await.unwrap();
        let secret: String =
            sqlx::query_scalar("SELECT rolpassword FROM pg_authid WHERE rolname = 'mes'")
                .fetch_one(&mut admin)
                .await
                .unwrap();
        let port = free_port();
        let folder = cluster.dir.join(format!("pgbouncer-{mode}"));
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("users.txt"), format!("\"mes\" \"{secret}\"\n")).unwrap();
        let ini = folder.join("pgbouncer.ini");
        std::fs::write(
            &ini,
            format!(
                "[databases]\n* = host=127.0.0.1 port={}\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\nauth_type = scram-sha-256\nauth_file = {}\npool_mode = {mode}\nlogfile = {}\n",
                cluster.port,
                folder.join("users.txt").display(),
                folder.join("pgbouncer.log").display()
            ),
        )
        .unwrap();
        let child = as_owner(binary, &folder, &ini)
            .spawn()
            .expect("start pgbouncer");
        // Dropped (and so stopped) if it does not listen within a few seconds.
        let bouncer = Bouncer { child, port };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return bouncer;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("pgbouncer did not listen on {port}");
    }

    fn url(&self, cluster: &Cluster) -> String {
        cluster
            .run(&["url", "mes"])
            .replace(&format!(":{}/", cluster.port), &format!(":{}/", self.port))
    }
}

/// PgBouncer refuses to run as root: as root it runs as `postgres`, which must own its files.
fn as_owner(binary: &str, folder: &Path, ini: &PathBuf) -> Command {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if root {
        let _ = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(folder)
            .status();
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--", binary]).arg(ini);
        command
    } else {
        let mut command = Command::new(binary);
        command.arg(ini);
        command
    }
}

impl Drop for Bouncer {
    fn drop(&mut self) {
        // runuser passes the signal on to PgBouncer.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

fn machine(name: &str) -> MachineInput {
    MachineInput {
        machine_name: name.into(),
        machine_type: "Press".into(),
        operational_status: "Running".into(),
        efficiency: Some(75.0),
        last_maintenance: "2026-11-01T00:00:00Z".into(),
    }
}

fn config_file(folder: &Path, name: &str, text: &str) -> PathBuf {
    let path = folder.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_works_behind_pgbouncer_in_session_mode() {
    let cluster = Cluster::new("pgbouncer");
    cluster.start();
    let direct = PgConnection::connect(&cluster.run(&["url", "mes"]))
        .await
        .unwrap();
    direct.close().await.unwrap();
    let pool = sqlx::PgPool::connect(&cluster.run(&["url", "mes"]))
        .await
        .unwrap();
    MIGRATOR.run(&pool).await.unwrap();
    pool.close().await;
    let bouncer = Bouncer::start(&cluster, "session").await;
    let url = bouncer.url(&cluster);
    let folder = cluster.dir.join("pcs");
    std::fs::create_dir_all(&folder).unwrap();

    // Without the setting: refused, and the app says what to set.
    let plain = config_file(&folder, "plain.toml", "");
    let config = DatabaseConfig::resolve(Some(url.clone()), Some(&plain)).unwrap();
    let registry = Registry::connect_lazy(&config);
    match registry.list_machines(&ListQuery::default()).await {
        Err(RegistryError::Unavailable(reason)) => {
            assert_eq!(reason, POOLER_REFUSED_SETTINGS)
        }
        other => panic!("expected the pooler's refusal, got {other:?}"),
    }

    // With it: two PCs through PgBouncer.
    let through = config_file(&folder, "pgbouncer.toml", "pgbouncer = true\n");
    let config = DatabaseConfig::resolve(Some(url.clone()), Some(&through))
        .unwrap()
        .with_deadline(Duration::from_secs(3));
    let mut pcs = Vec::new();
    let heard = Arc::new(Mutex::new(Vec::<Uuid>::new()));
    for n in 0..2 {
        let outbox = Outbox::open(&folder.join(format!("pc-{n}.sqlite3")))
            .await
            .unwrap();
        let synced = Arc::new(SyncedRegistry::new(
            Arc::new(Registry::connect_lazy(&config)),
            outbox,
        ));
        if n == 1 {
            let heard = heard.clone();
            synced.set_live_listener(Arc::new(move |changes| {
                let mut heard = heard.lock().unwrap();
                heard.extend(changes.iter().filter_map(|c| c.uid));
            }));
        }
        let worker = tokio::spawn(synced.clone().run_supervised(Arc::new(|_| {})));
        pcs.push((synced, worker));
    }
    // Both listening (LISTEN holds the session PgBouncer gave each listener).
    tokio::time::timeout(Duration::from_secs(10), async {
        while !pcs.iter().all(|(pc, _)| pc.live()) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| {
        let log = std::fs::read_to_string(cluster.dir.join("pgbouncer-session/pgbouncer.log"));
        panic!(
            "both PCs listen through PgBouncer; its log:\n{}",
            log.unwrap_or_default()
        )
    });

    // The deadlines reach the server, made after connecting.
    let mut connection = pcs[0].0.registry().pool().acquire().await.unwrap();
    let timeout: String = sqlx::query_scalar("SHOW statement_timeout")
        .fetch_one(&mut *connection)
        .await
        .unwrap();
    assert_eq!(timeout, "3s");
    drop(connection);

    // A write by one PC reaches the other's window.
    let uid = Uuid::new_v4();
    let created = pcs[0]
        .0
        .submit(QueuedWrite::Create(CreateMachine {
            write_id: Uuid::new_v4(),
            uid,
            machine: machine("PB-001"),
        }))
        .await
        .unwrap();
    assert!(matches!(created.outcome, WriteOutcome::Applied { .. }));
    let changed = pcs[0]
        .0
        .submit(QueuedWrite::SetStatus(SetMachineStatus {
            write_id: Uuid::new_v4(),
            uid,
            status: "Down".into(),
        }))
        .await
        .unwrap();
    assert!(matches!(changed.outcome, WriteOutcome::Applied { .. }));
    tokio::time::timeout(Duration::from_secs(1), async {
        while heard.lock().unwrap().iter().filter(|u| **u == uid).count() < 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the other PC heard both changes within 1 s");
    let page = pcs[1].0.list_machines(&ListQuery::default()).await.unwrap();
    let listed = page.machines.iter().find(|m| m.uid == uid).unwrap();
    assert_eq!(listed.operational_status.as_str(), "Down");

    for (pc, worker) in pcs {
        pc.shutdown(Some(worker), Duration::from_secs(5)).await;
    }
    drop(bouncer);
}
