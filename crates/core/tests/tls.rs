//! TLS against a real server: a cluster of the test's own with a certificate made at test time by
//! a CA made at test time. Verified TLS succeeds; a wrong host name, an unknown CA and a server
//! without TLS are each refused with their own message, which says what to do.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "shared/cluster.rs"]
mod cluster;

use std::path::{Path, PathBuf};
use std::process::Command;

use cluster::Cluster;
use mes_core::config::ConfigSource;
use mes_core::{DatabaseConfig, Registry, RegistryError};

fn openssl(args: &[&str], dir: &Path) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A CA (`{name}.crt`) and, when `server` is set, a certificate for `localhost` it signed.
fn make_ca(dir: &Path, name: &str) {
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.crt"),
        ],
        dir,
    );
}

fn make_server_cert(dir: &Path) {
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
        dir,
    );
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "plant-ca.crt",
            "-CAkey",
            "plant-ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.crt",
        ],
        dir,
    );
}

/// Hands the server its certificate and key (as its owner, key readable by it alone) and turns
/// TLS on.
fn enable_tls(cluster: &Cluster, certs: &Path) {
    let data = cluster.dir.join("data");
    for file in ["server.crt", "server.key"] {
        std::fs::copy(certs.join(file), data.join(file)).unwrap();
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "chmod 600 '{0}' && if [ \"$(id -u)\" = 0 ]; then chown postgres:postgres '{0}'; fi",
                data.join(file).display()
            ))
            .status()
            .unwrap();
        assert!(status.success());
    }
    let url = cluster.run(&["url", "postgres"]);
    let output = Command::new("psql")
        .args([
            &url,
            "-qtAX",
            "-c",
            "ALTER SYSTEM SET ssl = on",
            "-c",
            "SELECT pg_reload_conf()",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The server takes the new settings a moment after the reload: wait until it offers TLS.
    let secured = format!("{url}?sslmode=require");
    for _ in 0..100 {
        let probe = Command::new("psql")
            .args([&secured, "-qtAX", "-c", "SELECT 1"])
            .output()
            .unwrap();
        if probe.status.success() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the server did not turn TLS on");
}

fn url_with(base: &str, host: &str, query: &str) -> String {
    // base: postgres://mes:PASSWORD@127.0.0.1:PORT/db
    let (scheme_user, rest) = base.rsplit_once('@').unwrap();
    let (_, port_db) = rest.split_once(':').unwrap();
    format!("{scheme_user}@{host}:{port_db}?{query}")
}

async fn attempt(url: &str) -> Result<(), RegistryError> {
    let config = DatabaseConfig::from_url(url, ConfigSource::Environment, "test").unwrap();
    Registry::connect_lazy(&config).ping().await
}

fn reason(result: Result<(), RegistryError>) -> String {
    match result {
        Err(RegistryError::Unavailable(reason)) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn verified_tls_works_and_each_failure_says_what_to_do() {
    let cluster = Cluster::new("tls");
    cluster.start();
    let certs: PathBuf = cluster.dir.join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    make_ca(&certs, "plant-ca");
    make_ca(&certs, "other-ca");
    make_server_cert(&certs);
    enable_tls(&cluster, &certs);
    let base = cluster.run(&["url", "mes"]);
    let plant_ca = certs.join("plant-ca.crt");
    let other_ca = certs.join("other-ca.crt");

    // Verified: the certificate chains to the plant's CA and names the host.
    let good = url_with(
        &base,
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", plant_ca.display()),
    );
    attempt(&good)
        .await
        .expect("verify-full with the plant's CA");

    // The certificate names localhost, not 127.0.0.1.
    let wrong_name = url_with(
        &base,
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={}", plant_ca.display()),
    );
    let text = reason(attempt(&wrong_name).await);
    assert!(text.contains("does not name the host"), "{text}");

    // A CA this PC does not trust.
    let unknown = url_with(
        &base,
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", other_ca.display()),
    );
    let text = reason(attempt(&unknown).await);
    assert!(text.contains("authority this PC does not trust"), "{text}");

    // A server without TLS (the shared test cluster has none).
    let plain_server = std::env::var("DATABASE_URL").expect("DATABASE_URL names the test server");
    let plain = format!(
        "{}{}sslmode=verify-full&sslrootcert={}",
        plain_server,
        if plain_server.contains('?') { "&" } else { "?" },
        plant_ca.display()
    );
    let text = reason(attempt(&plain).await);
    assert!(text.contains("does not offer TLS"), "{text}");
}
