//! The database away: a clear, safe error (never the password), and bad input still refused.

use mes_core::registry::DatabaseHealth;
use mes_core::{DatabaseConfig, Registry, RegistryError};

use crate::support::*;

/// A registry pointed at a local port where nothing listens.
fn unreachable_registry() -> Registry {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://operator:Sup3rSecret@127.0.0.1:{port}/mes");
    let config =
        DatabaseConfig::from_url(&url, mes_core::config::ConfigSource::Environment, "test")
            .unwrap();
    Registry::connect_lazy(&config)
}

#[tokio::test]
async fn every_operation_reports_unavailable_without_secrets() {
    let registry = unreachable_registry();
    let machine = input("CNC-001");
    let results = [
        registry.list_machines(&Default::default()).await.map(drop),
        registry
            .create_machine(&create_write(machine))
            .await
            .map(drop),
        registry.get_machine(uuid::Uuid::new_v4()).await.map(drop),
        registry
            .set_machine_status(&status_write(uuid::Uuid::new_v4(), "Down"))
            .await
            .map(drop),
    ];
    for result in results {
        match result {
            Err(error @ RegistryError::Unavailable(_)) => {
                let text = error.to_string();
                assert!(!text.contains("Sup3rSecret"), "{text}");
                assert!(error.is_transient());
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }
    match registry.health().await {
        DatabaseHealth::Unavailable { target, reason } => {
            assert!(
                target.display.starts_with("operator@127.0.0.1:"),
                "{target:?}"
            );
            assert!(!reason.contains("Sup3rSecret"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn bad_input_is_refused_even_while_the_database_is_away() {
    let registry = unreachable_registry();
    let mut machine = input("CNC-001");
    machine.efficiency = Some(250.0);
    assert!(matches!(
        registry.create_machine(&create_write(machine)).await,
        Err(RegistryError::Validation(_))
    ));
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_probe_says_at_once_whether_the_server_is_there(pool: sqlx::PgPool) {
    let away = unreachable_registry().probe().await.unwrap_err();
    assert!(away.contains("cannot reach"), "{away}");
    assert!(!away.contains("Sup3rSecret"), "no password in: {away}");
    // Back: a probe that reaches the server also ends the fail-fast window.
    let online = registry(pool);
    assert_eq!(online.probe().await, Ok(()));
}
