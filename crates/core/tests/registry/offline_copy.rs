//! The offline copy of the fleet: while the database is away, the list, filters, search,
//! sorting, paging and counts answer from it exactly as the server would.

use std::sync::Arc;
use std::time::Duration;

use mes_core::domain::{ListQuery, SortColumn, SortDirection};
use mes_core::sync::{Outbox, SyncedRegistry, WriteOutcome, FLEET_COPY_LIMIT};
use mes_core::Registry;
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::*;
use crate::sync::{outbox_path, unreachable};

/// A fleet with ties in every sortable column, several types and statuses, and a name that
/// holds LIKE's special characters.
async fn varied_fleet(online: &Registry) {
    let types = ["Press", "Lathe Machine", "Robot Arm"];
    let statuses = ["Running", "Idle", "Maintenance", "Down"];
    for i in 0..40 {
        let mut machine = input(&format!("M-{:02}{}", i, if i % 7 == 0 { "x" } else { "" }));
        machine.machine_type = types[i % 3].into();
        machine.operational_status = statuses[i % 4].into();
        machine.efficiency = Some(f64::from((i % 5) as u8) * 10.5);
        machine.last_maintenance = format!("2024-0{}-10T08:00:00Z", 1 + i % 3);
        let created = online.create_machine(&create_write(machine)).await.unwrap();
        if i % 6 == 0 {
            online
                .set_machine_status(&status_write(created.uid, "Down"))
                .await
                .unwrap();
        }
    }
    online
        .create_machine(&create_write(input("Odd 50%_off\\")))
        .await
        .unwrap();
}

fn queries() -> Vec<ListQuery> {
    let mut queries = Vec::new();
    for sort in SortColumn::ALL {
        for direction in [SortDirection::Asc, SortDirection::Desc] {
            for offset in [0, 7] {
                queries.push(ListQuery {
                    sort,
                    direction,
                    limit: 10,
                    offset,
                    ..ListQuery::default()
                });
            }
            // Pages next to a row (keyset), one with a filter the row does not match, and a
            // boundary row that does not exist (the offset then applies).
            for (after_id, before_id, statuses) in [
                (Some(5), None, vec![]),
                (None, Some(20), vec![]),
                (Some(12), None, vec!["Down".to_string()]),
                (None, Some(30), vec!["Idle".to_string()]),
                (Some(999), None, vec![]),
            ] {
                queries.push(ListQuery {
                    sort,
                    direction,
                    limit: 10,
                    offset: 7,
                    after_id,
                    before_id,
                    statuses,
                    ..ListQuery::default()
                });
            }
        }
    }
    let filtered = [
        ListQuery {
            statuses: vec!["Down".into(), "Idle".into()],
            ..ListQuery::default()
        },
        ListQuery {
            machine_type: Some("Press".into()),
            sort: SortColumn::Efficiency,
            direction: SortDirection::Desc,
            ..ListQuery::default()
        },
        ListQuery {
            search: Some("m-1".into()),
            ..ListQuery::default()
        },
        ListQuery {
            search: Some("X".into()),
            statuses: vec!["Running".into()],
            ..ListQuery::default()
        },
        ListQuery {
            search: Some("50%_".into()),
            ..ListQuery::default()
        },
        ListQuery {
            search: Some("nothing like it".into()),
            ..ListQuery::default()
        },
        ListQuery {
            offset: 100,
            ..ListQuery::default()
        },
    ];
    queries.extend(filtered);
    queries
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_offline_copy_answers_every_query_as_the_server_does(pool: PgPool) {
    let online = Arc::new(registry(pool.clone()));
    varied_fleet(&online).await;
    let synced = SyncedRegistry::new(online.clone(), Outbox::open(&outbox_path()).await.unwrap());
    synced.refresh_fleet_copy().await.unwrap();
    let copy = synced.outbox().fleet_copy().await.unwrap().unwrap();
    assert_eq!(copy.machines.len(), 41);

    for query in queries() {
        let server = online.list_machines(&query).await.unwrap();
        let offline = copy.page(&query.validate().unwrap());
        let uids = |page: &mes_core::domain::MachinePage| -> Vec<Uuid> {
            page.machines.iter().map(|m| m.uid).collect()
        };
        assert_eq!(uids(&offline), uids(&server), "{query:?}");
        assert_eq!(offline.total, server.total, "{query:?}");
        assert_eq!(offline.machines, server.machines, "{query:?}");
        assert_eq!(
            copy.status_counts(&query.validate().unwrap()),
            online.status_counts(&query).await.unwrap(),
            "{query:?}"
        );
    }
    assert_eq!(copy.machine_types(), online.machine_types().await.unwrap());
}

#[sqlx::test(migrations = "../../migrations")]
async fn offline_any_machine_can_be_found_not_only_the_last_page_seen(pool: PgPool) {
    let online = Arc::new(registry(pool.clone()));
    varied_fleet(&online).await;
    let path = outbox_path();
    let synced = SyncedRegistry::new(online.clone(), reopen(&path).await);
    synced.refresh_fleet_copy().await.unwrap();
    let first_page = ListQuery {
        limit: 5,
        ..ListQuery::default()
    };
    synced.list_machines(&first_page).await.unwrap();
    drop(synced);

    // The app restarts while the database is away.
    let offline = SyncedRegistry::new(Arc::new(unreachable()), reopen(&path).await);
    let search = ListQuery {
        search: Some("m-3".into()),
        ..ListQuery::default()
    };
    let page = offline.list_machines(&search).await.unwrap();
    assert!(page.cached_at.is_some(), "marked with the copy's time");
    // Found away once, the database is known to be away: later reads answer from the copy at
    // once, and the status says why.
    let status = offline.status();
    assert_eq!(status.connection, mes_core::sync::Connection::Offline);
    assert!(status.reason.is_some_and(|r| !r.is_empty()));
    let names: Vec<&str> = page
        .machines
        .iter()
        .map(|m| m.machine_name.as_str())
        .collect();
    assert_eq!(
        names,
        ["M-30", "M-31", "M-32", "M-33", "M-34", "M-35x", "M-36", "M-37", "M-38", "M-39"]
    );
    let counts = offline.status_counts(&search).await.unwrap();
    assert_eq!(counts.iter().map(|c| c.count).sum::<i64>(), 10);
    assert_eq!(offline.machine_types().await.unwrap().len(), 4);
    let machine = offline.get_machine(page.machines[0].uid).await.unwrap();
    assert_eq!(machine.machine_name, "M-30");
    // Bad input is still refused offline, with the server's message.
    let bad = ListQuery {
        limit: 0,
        ..ListQuery::default()
    };
    assert!(matches!(
        offline.list_machines(&bad).await,
        Err(mes_core::RegistryError::Validation(_))
    ));
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_copy_follows_this_app_s_writes_and_other_tools_changes(pool: PgPool) {
    let online = Arc::new(registry(pool.clone()));
    let synced = SyncedRegistry::new(online.clone(), Outbox::open(&outbox_path()).await.unwrap());
    synced.refresh_fleet_copy().await.unwrap();
    let copy_names = || async {
        let copy = synced.outbox().fleet_copy().await.unwrap().unwrap();
        let mut names: Vec<String> = copy.machines.into_iter().map(|m| m.machine_name).collect();
        names.sort();
        names
    };
    assert!(copy_names().await.is_empty());

    let WriteOutcome::Applied { machine } = synced
        .create_machine(create_write(input("CNC-001")))
        .await
        .unwrap()
    else {
        panic!("applied online")
    };
    // The copy is updated off the response path: give it a moment.
    let mut waited = Duration::ZERO;
    while copy_names().await.is_empty() && waited < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += Duration::from_millis(20);
    }
    assert_eq!(copy_names().await, ["CNC-001"]);
    synced.delete_machine(delete_write(&machine)).await.unwrap();
    while !copy_names().await.is_empty() && waited < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += Duration::from_millis(20);
    }
    assert!(copy_names().await.is_empty());

    // Another tool writes the tutorial's six columns; the next refresh sees it.
    sqlx::query("INSERT INTO machines (machine_name, machine_type, operational_status, efficiency, last_maintenance) VALUES ('TOOL-1', 'Press', 'Idle', 50, now())")
        .execute(&pool)
        .await
        .unwrap();
    synced.refresh_fleet_copy().await.unwrap();
    assert_eq!(copy_names().await, ["TOOL-1"]);
    // Unchanged fleet: the copy is not taken again.
    let saved_at = synced
        .outbox()
        .fleet_copy()
        .await
        .unwrap()
        .unwrap()
        .saved_at;
    synced.refresh_fleet_copy().await.unwrap();
    assert_eq!(
        synced
            .outbox()
            .fleet_copy()
            .await
            .unwrap()
            .unwrap()
            .saved_at,
        saved_at
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_fleet_too_large_to_copy_falls_back_to_the_last_page_seen(pool: PgPool) {
    let online = Arc::new(registry(pool.clone()));
    let path = outbox_path();
    let synced = SyncedRegistry::new(online.clone(), reopen(&path).await);
    synced.refresh_fleet_copy().await.unwrap();
    sqlx::query(
        "INSERT INTO machines (machine_name, machine_type, operational_status, efficiency, last_maintenance)
         SELECT 'BIG-' || g, 'Press', 'Idle', 50, now() FROM generate_series(1, $1) g",
    )
    .bind(FLEET_COPY_LIMIT + 1)
    .execute(&pool)
    .await
    .unwrap();
    synced.refresh_fleet_copy().await.unwrap();
    assert!(synced.outbox().fleet_copy().await.unwrap().is_none());
    let seen = synced.list_machines(&ListQuery::default()).await.unwrap();
    drop(synced);

    let offline = SyncedRegistry::new(Arc::new(unreachable()), reopen(&path).await);
    let page = offline.list_machines(&ListQuery::default()).await.unwrap();
    assert!(page.cached_at.is_some());
    assert_eq!(page.machines, seen.machines);
}

/// Opens the outbox at `path` once the last user (a background task of a registry dropped to
/// simulate a restart) has let go of it: an outbox is only ever open in one place.
async fn reopen(path: &std::path::Path) -> Outbox {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match Outbox::open(path).await {
            Ok(outbox) => return outbox,
            Err(e) if std::time::Instant::now() < deadline => {
                assert!(e.to_string().contains(mes_core::sync::OUTBOX_IN_USE), "{e}");
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
}
