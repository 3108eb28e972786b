//! Administration from a shell: `mes-admin migrate`, `mes-admin seed`, `mes-admin status`.
//! The database comes from `MES_DATABASE_URL` (or PostgreSQL's PG* variables), as for the app.

use std::process::ExitCode;

use mes_core::{samples, schema, DatabaseConfig, Registry};

const USAGE: &str = "usage: mes-admin <migrate|roles|seed|status>
  migrate  apply the schema migrations (adopting an existing tutorial table); run it as the
           role that owns the tables
  roles    create or update the group roles mes_viewer, mes_operator, mes_planner and mes_admin
           with their grants (run as the owner, with CREATEROLE); users are login roles in them:
           CREATE ROLE alice LOGIN PASSWORD '...' IN ROLE mes_operator;
  seed     migrate, then load the four sample machines if the table is empty
  status   say whether the database is reachable and migrated, and name the rows holding
           values the app cannot show (only reads; changes nothing)";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,mes_core=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let Some(command) = std::env::args().nth(1) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let config = match DatabaseConfig::from_env(None) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("mes-admin: {e}");
            return ExitCode::from(2);
        }
    };
    let registry = Registry::connect_lazy(&config);
    let outcome = match command.as_str() {
        "migrate" => match schema::migrate(registry.db()).await {
            Ok(()) => schema::inspect(registry.db()).await.map(|state| {
                let mut message = format!("schema is up to date (schema {})", state.database);
                for row in &state.rule_breaks {
                    message.push_str(&format!(
                        "\n  row holding a value the app cannot show: {row}"
                    ));
                }
                message
            }),
            Err(e) => Err(e),
        },
        "roles" => schema::grant_roles(registry.db()).await.map(|open| {
            let mut message = "group roles mes_viewer, mes_operator, mes_planner and mes_admin are in place; add users with CREATE ROLE <name> LOGIN PASSWORD '...' IN ROLE mes_operator".to_owned();
            for warning in open {
                message.push_str(&format!("\n  warning: {warning}"));
            }
            message
        }),
        "seed" => samples::seed_if_empty(&registry)
            .await
            .map(|added| match added {
                0 => "machines table is not empty: no samples loaded".to_owned(),
                n => format!("loaded {n} sample machines"),
            }),
        "status" => {
            let state = match registry.ping().await {
                Ok(()) => schema::inspect(registry.db()).await,
                Err(e) => Err(e),
            };
            let report = match &state {
                Ok(state) => serde_json::json!({
                    "state": if state.up_to_date() { "online" } else { "needs_migration" },
                    "target": config.target().display,
                    "schema": { "database": state.database, "app": state.app },
                    "rows_with_values_the_app_cannot_show": state.rule_breaks,
                }),
                Err(e) => serde_json::json!({
                    "state": "unavailable",
                    "target": config.target().display,
                    "reason": e.to_string(),
                }),
            };
            // A JSON value always prints; `Display` of it cannot fail.
            println!("{report:#}");
            return if state.is_ok_and(|s| s.up_to_date()) {
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
