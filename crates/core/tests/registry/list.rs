use std::cmp::Ordering;

use mes_core::domain::{
    ListQuery, Machine, MachineInput, OperationalStatus, SortColumn, SortDirection,
};
use mes_core::Registry;
use sqlx::PgPool;

use crate::support::*;

const STATUSES: [&str; 4] = ["Running", "Idle", "Maintenance", "Down"];
const TYPES: [&str; 3] = ["Lathe", "Milling Machine", "Robot Arm"];

/// 29 machines with many ties in every column but the name, so order stability is exercised.
async fn fleet(registry: &Registry) -> Vec<Machine> {
    let mut machines = Vec::new();
    for i in 0..29 {
        let machine = MachineInput {
            machine_name: if i % 2 == 0 {
                format!("cnc-{i:03}")
            } else {
                format!("CNC-{i:03}")
            },
            machine_type: TYPES[i % 3].into(),
            operational_status: STATUSES[i % 4].into(),
            efficiency: Some([50.0, 75.5, 100.0][i % 3]),
            last_maintenance: format!("2024-01-{:02}T08:00:00Z", 1 + i % 5),
        };
        machines.push(
            registry
                .create_machine(&create_write(machine))
                .await
                .unwrap(),
        );
    }
    machines
}

fn expected_order(machines: &[Machine], sort: SortColumn, direction: SortDirection) -> Vec<i32> {
    let mut sorted = machines.to_vec();
    sorted.sort_by(|a, b| {
        let by_column = match sort {
            SortColumn::MachineName => a
                .machine_name
                .to_lowercase()
                .cmp(&b.machine_name.to_lowercase()),
            SortColumn::MachineType => a.machine_type.cmp(&b.machine_type),
            SortColumn::OperationalStatus => a
                .operational_status
                .as_str()
                .cmp(b.operational_status.as_str()),
            SortColumn::Efficiency => a
                .efficiency
                .partial_cmp(&b.efficiency)
                .unwrap_or(Ordering::Equal),
            SortColumn::LastMaintenance => a.last_maintenance.cmp(&b.last_maintenance),
            SortColumn::UpdatedAt => a.updated_at.cmp(&b.updated_at),
            SortColumn::Id => Ordering::Equal,
        };
        let ordering = by_column.then(a.id.cmp(&b.id));
        match direction {
            SortDirection::Asc => ordering,
            SortDirection::Desc => ordering.reverse(),
        }
    });
    sorted.iter().map(|m| m.id).collect()
}

#[sqlx::test(migrations = "../../migrations")]
async fn every_sort_is_correct_and_stable_across_pages(pool: PgPool) {
    let registry = registry(pool);
    let machines = fleet(&registry).await;
    for sort in SortColumn::ALL {
        for direction in [SortDirection::Asc, SortDirection::Desc] {
            let mut seen = Vec::new();
            for offset in (0..29).step_by(7) {
                let query = ListQuery {
                    sort,
                    direction,
                    limit: 7,
                    offset,
                    ..ListQuery::default()
                };
                let page = registry.list_machines(&query).await.unwrap();
                assert_eq!(page.total, 29);
                seen.extend(page.machines.iter().map(|m| m.id));
            }
            assert_eq!(
                seen,
                expected_order(&machines, sort, direction),
                "{sort:?} {direction:?}"
            );
        }
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn filters_combine_and_total_counts_all_matches(pool: PgPool) {
    let registry = registry(pool);
    let machines = fleet(&registry).await;
    let query = ListQuery {
        statuses: vec!["Down".into(), "Idle".into()],
        machine_type: Some("Lathe".into()),
        limit: 2,
        ..ListQuery::default()
    };
    let page = registry.list_machines(&query).await.unwrap();
    let expected = machines
        .iter()
        .filter(|m| {
            matches!(
                m.operational_status,
                OperationalStatus::Down | OperationalStatus::Idle
            ) && m.machine_type == "Lathe"
        })
        .count();
    assert!(expected > 2);
    assert_eq!(page.total, expected as i64);
    assert_eq!(page.machines.len(), 2);
    assert!(page.machines.iter().all(|m| m.machine_type == "Lathe"
        && matches!(
            m.operational_status,
            OperationalStatus::Down | OperationalStatus::Idle
        )));
}

#[sqlx::test(migrations = "../../migrations")]
async fn search_is_a_case_insensitive_literal_substring(pool: PgPool) {
    let registry = registry(pool);
    fleet(&registry).await;
    create(&registry, "Press 50%_line").await;
    let search = |text: &str| ListQuery {
        search: Some(text.into()),
        limit: 500,
        ..ListQuery::default()
    };
    let page = registry.list_machines(&search("NC-01")).await.unwrap();
    let names: Vec<&str> = page
        .machines
        .iter()
        .map(|m| m.machine_name.as_str())
        .collect();
    assert_eq!(page.total, 10, "{names:?}");
    assert!(names.iter().all(|n| n.to_lowercase().contains("nc-01")));
    assert_eq!(
        registry.list_machines(&search("0%_")).await.unwrap().total,
        1
    );
    assert_eq!(registry.list_machines(&search("%")).await.unwrap().total, 1);
    assert_eq!(registry.list_machines(&search("_")).await.unwrap().total, 1);
    assert_eq!(
        registry.list_machines(&search("zzz")).await.unwrap().total,
        0
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn status_counts_and_types_describe_the_fleet(pool: PgPool) {
    let registry = registry(pool);
    fleet(&registry).await;
    let counts = registry.status_counts(&ListQuery::default()).await.unwrap();
    let pairs: Vec<(OperationalStatus, i64)> = counts.iter().map(|c| (c.status, c.count)).collect();
    assert_eq!(
        pairs,
        [
            (OperationalStatus::Running, 8),
            (OperationalStatus::Idle, 7),
            (OperationalStatus::Maintenance, 7),
            (OperationalStatus::Down, 7)
        ]
    );
    let lathes = ListQuery {
        machine_type: Some("Lathe".into()),
        ..ListQuery::default()
    };
    let lathe_total: i64 = registry
        .status_counts(&lathes)
        .await
        .unwrap()
        .iter()
        .map(|c| c.count)
        .sum();
    assert_eq!(lathe_total, 10);
    assert_eq!(registry.machine_types().await.unwrap(), TYPES);
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_empty_registry_lists_nothing(pool: PgPool) {
    let registry = registry(pool);
    let page = registry.list_machines(&ListQuery::default()).await.unwrap();
    assert_eq!((page.machines.len(), page.total), (0, 0));
    let counts = registry.status_counts(&ListQuery::default()).await.unwrap();
    assert!(counts.iter().all(|c| c.count == 0) && counts.len() == 4);
}

/// Every page the offset gives, in order, for `query`.
async fn pages_by_offset(registry: &Registry, query: &ListQuery) -> Vec<Vec<i32>> {
    let mut pages = Vec::new();
    let mut offset = 0;
    loop {
        let page = registry
            .list_machines(&ListQuery {
                offset,
                ..query.clone()
            })
            .await
            .unwrap();
        if page.machines.is_empty() {
            return pages;
        }
        pages.push(page.machines.iter().map(|m| m.id).collect());
        offset += query.limit;
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn next_and_previous_by_keyset_give_the_offsets_pages_in_every_order(pool: PgPool) {
    let registry = registry(pool.clone());
    fleet(&registry).await;
    // A plant's own table may hold NULL where this app never writes one.
    sqlx::query("ALTER TABLE machines ALTER COLUMN efficiency DROP NOT NULL")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE machines SET efficiency = NULL WHERE id % 4 = 1")
        .execute(&pool)
        .await
        .unwrap();
    for sort in SortColumn::ALL {
        for direction in [SortDirection::Asc, SortDirection::Desc] {
            for statuses in [vec![], vec!["Down".to_string(), "Idle".to_string()]] {
                let query = ListQuery {
                    sort,
                    direction,
                    statuses,
                    limit: 4,
                    ..ListQuery::default()
                };
                let expected = pages_by_offset(&registry, &query).await;
                // Next, from each page's last row.
                let mut walked = vec![expected[0].clone()];
                while walked.len() < expected.len() + 1 {
                    let last = *walked.last().unwrap().last().unwrap();
                    let page = registry
                        .list_machines(&ListQuery {
                            after_id: Some(last),
                            ..query.clone()
                        })
                        .await
                        .unwrap();
                    if page.machines.is_empty() {
                        break;
                    }
                    walked.push(page.machines.iter().map(|m| m.id).collect());
                }
                assert_eq!(walked, expected, "next: {sort:?} {direction:?} {query:?}");
                // Previous, from each page's first row.
                for (i, page) in expected.iter().enumerate().skip(1) {
                    let before = registry
                        .list_machines(&ListQuery {
                            before_id: Some(page[0]),
                            ..query.clone()
                        })
                        .await
                        .unwrap();
                    let ids: Vec<i32> = before.machines.iter().map(|m| m.id).collect();
                    assert_eq!(ids, expected[i - 1], "previous: {sort:?} {direction:?}");
                }
            }
        }
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_boundary_row_deleted_meanwhile_falls_back_to_the_offset(pool: PgPool) {
    let registry = registry(pool.clone());
    fleet(&registry).await;
    let query = ListQuery {
        limit: 5,
        offset: 5,
        ..ListQuery::default()
    };
    let second = registry.list_machines(&query).await.unwrap();
    let first = registry
        .list_machines(&ListQuery {
            offset: 0,
            ..query.clone()
        })
        .await
        .unwrap();
    let gone = first.machines.last().unwrap().clone();
    registry.delete_machine(&delete_write(&gone)).await.unwrap();
    let page = registry
        .list_machines(&ListQuery {
            after_id: Some(gone.id),
            ..query.clone()
        })
        .await
        .unwrap();
    // The offset now points one row further on: what was the second page less its first row.
    assert_eq!(page.machines[0].id, second.machines[1].id);
    assert!(registry
        .list_machines(&ListQuery {
            after_id: Some(1),
            before_id: Some(2),
            ..query
        })
        .await
        .is_err());
}
