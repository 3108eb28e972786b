//! A private PostgreSQL cluster of a test's own (through `scripts/local-pg.sh`), for tests that
//! stop it, start it or reconfigure it, which the shared test cluster must not see.

#![allow(dead_code)]

use std::path::PathBuf;

/// A private PostgreSQL cluster for this test alone: it is stopped and started on purpose.
pub struct Cluster {
    pub dir: PathBuf,
    pub port: u16,
}

impl Cluster {
    /// A new cluster under /var/tmp (as root the server runs as `postgres`, which must reach it).
    pub fn new(name: &str) -> Cluster {
        Cluster {
            dir: PathBuf::from("/var/tmp").join(format!("mes-{name}-pg-{}", std::process::id())),
            port: free_port(),
        }
    }

    pub fn script() -> PathBuf {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/local-pg.sh"
        ))
    }

    pub fn run(&self, args: &[&str]) -> String {
        run_script(&self.dir, self.port, args)
    }

    pub fn start(&self) {
        self.run(&["start"]);
    }

    pub fn stop(&self) {
        self.run(&["stop"]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new(Self::script())
            .arg("stop")
            .env("MES_PG_DIR", &self.dir)
            .env("MES_PG_PORT", self.port.to_string())
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `local-pg.sh` for the cluster in `dir` on `port` (from a thread that does not own it).
pub fn run_script(dir: &std::path::Path, port: u16, args: &[&str]) -> String {
    let output = std::process::Command::new(Cluster::script())
        .args(args)
        .env("MES_PG_DIR", dir)
        .env("MES_PG_PORT", port.to_string())
        .output()
        .expect("run local-pg.sh");
    assert!(
        output.status.success(),
        "local-pg.sh {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
