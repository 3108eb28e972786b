//! The offline copy of the fleet at its largest: what taking it costs, the fingerprint checked
//! after every list, and how fast the offline table answers from it.

use std::sync::Arc;
use std::time::Instant;

use mes_core::config::ConfigSource;
use mes_core::domain::{ListQuery, SortColumn, SortDirection};
use mes_core::sync::{Outbox, SyncedRegistry, FLEET_COPY_LIMIT};
use mes_core::{DatabaseConfig, Registry};
use uuid::Uuid;

use crate::fixtures;
use crate::stats::{ms, time_async, Table};

pub async fn offline_copy_at_scale(registry: Arc<Registry>) -> String {
    let pool = registry.pool().clone();
    sqlx::query("TRUNCATE machines RESTART IDENTITY")
        .execute(&pool)
        .await
        .expect("truncate");
    fixtures::bulk_insert(&pool, FLEET_COPY_LIMIT, "F-").await;
    let path = std::env::temp_dir().join(format!("mes-bench-fleet-{}.sqlite3", Uuid::new_v4()));
    let online = SyncedRegistry::new(registry.clone(), Outbox::open(&path).await.expect("outbox"));
    let started = Instant::now();
    online.refresh_fleet_copy().await.expect("copy");
    let take = started.elapsed();
    let fingerprint = time_async(5, 50, |_| async {
        registry.fleet_signature().await.expect("fingerprint");
    })
    .await;
    drop(online);

    // The app restarted while the database is away.
    let offline = SyncedRegistry::new(
        Arc::new(unreachable()),
        Outbox::open(&path).await.expect("outbox"),
    );
    let first_page = ListQuery::default();
    let search = ListQuery {
        search: Some("f-0123".into()),
        sort: SortColumn::Efficiency,
        direction: SortDirection::Desc,
        ..ListQuery::default()
    };
    let list = time_async(3, 30, |_| async {
        offline
            .list_machines(&first_page)
            .await
            .expect("offline list");
    })
    .await;
    let searched = time_async(3, 30, |_| async {
        offline
            .list_machines(&search)
            .await
            .expect("offline search");
    })
    .await;
    let counts = time_async(3, 30, |_| async {
        offline
            .status_counts(&first_page)
            .await
            .expect("offline counts");
    })
    .await;
    let _ = std::fs::remove_file(path);

    let mut table = Table::new(
        &format!("Offline copy of a fleet of {FLEET_COPY_LIMIT} machines (the most kept offline)"),
        &["measure", "p50 ms", "p95 ms"],
    );
    table.row(&[
        "taking the copy (once, when the fleet changed)".into(),
        ms(take),
        "".into(),
    ]);
    table.row(&[
        "fingerprint, checked after each list seen".into(),
        ms(fingerprint.p50),
        ms(fingerprint.p95),
    ]);
    table.row(&[
        "offline: first page of 100, by name".into(),
        ms(list.p50),
        ms(list.p95),
    ]);
    table.row(&[
        "offline: name search, by efficiency desc".into(),
        ms(searched.p50),
        ms(searched.p95),
    ]);
    table.row(&[
        "offline: status counts".into(),
        ms(counts.p50),
        ms(counts.p95),
    ]);
    table.render()
}

/// A registry whose server cannot be reached: a port nothing listens on.
fn unreachable() -> Registry {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let url = format!("postgres://op:pw@127.0.0.1:{port}/mes");
    Registry::connect_lazy(
        &DatabaseConfig::from_url(&url, ConfigSource::Environment, "bench").expect("url"),
    )
}
