//! Administration from a shell: `mes-admin migrate`, `mes-admin seed`, `mes-admin status`.
//! The database comes from `MES_DATABASE_URL` (or PostgreSQL's PG* variables), as for the app.

use std::process::ExitCode;

use mes_core::registry::DatabaseHealth;
use mes_core::{samples, DatabaseConfig, Registry};

const USAGE: &str = "usage: mes-admin <migrate|seed|status>
  migrate  apply the schema migrations (adopting an existing tutorial table)
  seed     migrate, then load the four sample machines if the table is empty
  status   say whether the database is reachable and migrated";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,mes_core=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let command = std::env::args().nth(1).unwrap_or_default();
    let config = match DatabaseConfig::from_env(None) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("mes-admin: {e}");
            return ExitCode::from(2);
        }
    };
    let registry = Registry::connect_lazy(&config);
    let outcome = match command.as_str() {
        "migrate" => registry
            .ensure_schema()
            .await
            .map(|()| "schema is up to date".to_owned()),
        "seed" => samples::seed_if_empty(&registry)
            .await
            .map(|added| match added {
                0 => "machines table is not empty: no samples loaded".to_owned(),
                n => format!("loaded {n} sample machines"),
            }),
        "status" => {
            let health = registry.health().await;
            let online = matches!(health, DatabaseHealth::Online { .. });
            println!(
                "{}",
                serde_json::to_string_pretty(&health).unwrap_or_default()
            );
            return if online {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            };
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(message) => {
            println!("mes-admin: {message} ({})", config.target());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mes-admin: {e} ({})", config.target());
            ExitCode::FAILURE
        }
    }
}
