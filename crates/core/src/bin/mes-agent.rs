//! A headless MES Machine Manager: the app's core, outbox and supervised sync worker without a
//! window, driven by one JSON request per line on stdin, answered by one JSON line on stdout in
//! the same order. The chaos test runs two of them as two control-room PCs (and kills them).
//!
//! Environment: `MES_DATABASE_URL`, `MES_DB_DEADLINE_SECS` (as the app), and `MES_AGENT_OUTBOX`,
//! the outbox file. Requests:
//!   {"op":"submit","write":<QueuedWrite>}  -> {"ok":<Submitted>} | {"err":"…"}
//!   {"op":"status"}                        -> {"ok":<SyncStatus>}
//!   {"op":"attention"}                     -> {"ok":[<OutboxEntry>…]}  (writes needing attention)

use std::process::ExitCode;
use std::sync::Arc;

use mes_core::sync::{Outbox, QueuedWrite, SyncedRegistry};
use mes_core::{DatabaseConfig, Registry};
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Request {
    Submit { write: QueuedWrite },
    Status,
    Attention,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = match DatabaseConfig::from_env(None) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("mes-agent: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(outbox_path) = std::env::var_os("MES_AGENT_OUTBOX") else {
        eprintln!("mes-agent: set MES_AGENT_OUTBOX to the outbox file");
        return ExitCode::from(2);
    };
    let outbox = match Outbox::open(std::path::Path::new(&outbox_path)).await {
        Ok(outbox) => outbox,
        Err(e) => {
            eprintln!("mes-agent: {e}");
            return ExitCode::FAILURE;
        }
    };
    let synced = Arc::new(SyncedRegistry::new(
        Arc::new(Registry::connect_lazy(&config)),
        outbox,
    ));
    tokio::spawn(synced.clone().run_supervised(Arc::new(|_| {})));

    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut stdout = tokio::io::stdout();
    while let Ok(Some(line)) = lines.next_line().await {
        let answer = match serde_json::from_str::<Request>(&line) {
            Err(e) => serde_json::json!({ "err": format!("bad request: {e}") }),
            Ok(Request::Submit { write }) => match synced.submit(write).await {
                Ok(submitted) => serde_json::json!({ "ok": submitted }),
                Err(e) => serde_json::json!({ "err": e.to_string() }),
            },
            Ok(Request::Status) => serde_json::json!({ "ok": synced.status() }),
            Ok(Request::Attention) => match synced.outbox().needs_attention().await {
                Ok(entries) => serde_json::json!({ "ok": entries }),
                Err(e) => serde_json::json!({ "err": e.to_string() }),
            },
        };
        let mut text = answer.to_string();
        text.push('\n');
        if stdout.write_all(text.as_bytes()).await.is_err() || stdout.flush().await.is_err() {
            break;
        }
    }
    ExitCode::SUCCESS
}
