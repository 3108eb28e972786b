//! `make bench`: latency of every registry operation through the core and through Tauri's IPC
//! layer, printed as ratios to raw sqlx round trips measured on the same server in the same run;
//! then paging through 100,000 machines. Needs `DATABASE_URL` (a server where it may create the
//! `mes_bench` database); `make bench` points it at the private cluster.

// Benchmark code: a failed unwrap aborts the run with its reason, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fixtures;
mod history_cost;
mod oee;
mod offline;
mod planner;
#[path = "../../../crates/core/tests/shared/proxy.rs"]
mod proxy;
mod replay;
mod stats;
#[path = "../../tests/app/support.rs"]
#[allow(dead_code)]
mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mes_core::domain::{
    DeleteMachine, ListQuery, Machine, SetMachineStatus, SortColumn, SortDirection, UpdateMachine,
};
use mes_core::{repo, Registry};
use serde_json::json;
use stats::{ms, time_async, time_blocking, Summary, Table};
use uuid::Uuid;

const WARMUP: usize = 100;
const ITERATIONS: usize = 1000;
const PAGE_ITERATIONS: usize = 200;
const FLEET: i64 = 100_000;

const READ_TARGET: f64 = 2.0;
const WRITE_TARGET: f64 = 1.3;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    // Commands invoked through the mock IPC layer run on this same runtime.
    tauri::async_runtime::set(runtime.handle().clone());
    let report = runtime.block_on(run());
    println!("{report}");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../bench-results");
    let _ = std::fs::create_dir_all(dir);
    if std::fs::write(format!("{dir}/registry.md"), &report).is_ok() {
        println!("\n(also written to bench-results/registry.md)");
    }
}

async fn run() -> String {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL must name the benchmark server");
    let registry = Arc::new(fixtures::fresh_registry(&url).await);
    let pool = registry.pool().clone();
    fixtures::bulk_insert(&pool, 1000, "BG-").await;
    // `cargo bench --bench registry -- replay` (or `paging`, `offline`, `ops`) measures only that
    // part, for quick iteration.
    let only = |part: &str| std::env::args().skip(1).any(|arg| arg == part);
    if only("replay") {
        return replay::replay_at_scale(registry.clone()).await;
    }
    if only("paging") {
        return paging_at_scale(&registry).await;
    }
    if only("offline") {
        return offline::offline_copy_at_scale(registry.clone()).await;
    }
    if only("planner") {
        return planner::planner_at_scale(registry.clone()).await;
    }
    if only("history") {
        return history_cost::history_cost(&registry).await;
    }
    if only("oee") {
        return oee::oee_at_scale(registry.clone()).await;
    }
    sqlx::query("CREATE TABLE raw_bench (id bigserial PRIMARY KEY, note text NOT NULL)")
        .execute(&pool)
        .await
        .expect("raw table");

    let raw_select = time_async(WARMUP, ITERATIONS, |i| {
        let pool = pool.clone();
        async move {
            sqlx::query("SELECT id, uid, machine_name, machine_type, operational_status, efficiency, last_maintenance, version, created_at, updated_at FROM machines WHERE id = $1")
                .bind(1 + (i % 1000) as i32)
                .fetch_one(&pool)
                .await
                .expect("raw select");
        }
    })
    .await;
    let raw_insert = time_async(WARMUP, ITERATIONS, |i| {
        let pool = pool.clone();
        async move {
            sqlx::query("INSERT INTO raw_bench (note) VALUES ($1)")
                .bind(format!("row {i}"))
                .execute(&pool)
                .await
                .expect("raw insert");
        }
    })
    .await;

    let core = core_operations(&registry).await;
    let ipc = ipc_operations(registry.clone()).await;

    let mut table = Table::new(
        &format!("Operations ({ITERATIONS} timed runs each, {WARMUP} warm-up; ~1,000 machines in the table)"),
        &["operation", "core p50 ms", "core p95 ms", "IPC p50 ms", "IPC p95 ms", "baseline", "core p50 / baseline", "target"],
    );
    table.row(&[
        "raw sqlx PK SELECT".into(),
        ms(raw_select.p50),
        ms(raw_select.p95),
        "".into(),
        "".into(),
        "—".into(),
        "1.00×".into(),
        "".into(),
    ]);
    table.row(&[
        "raw sqlx 1-row INSERT commit".into(),
        ms(raw_insert.p50),
        ms(raw_insert.p95),
        "".into(),
        "".into(),
        "—".into(),
        "1.00×".into(),
        "".into(),
    ]);
    for ((name, core), (_, ipc)) in core.iter().zip(ipc.iter()) {
        let is_read = matches!(*name, "get" | "list (page of 100 + total)");
        let (baseline_name, baseline, target) = if is_read {
            ("PK SELECT", raw_select.p50, READ_TARGET)
        } else {
            ("INSERT commit", raw_insert.p50, WRITE_TARGET)
        };
        let r = core.p50.as_secs_f64() / baseline.as_secs_f64();
        let verdict = if *name == "list (page of 100 + total)" {
            "(100 rows; see note)".to_owned()
        } else if r <= target {
            format!("≤ {target}× ✓")
        } else {
            format!("≤ {target}× ✗")
        };
        table.row(&[
            name.to_string(),
            ms(core.p50),
            ms(core.p95),
            ms(ipc.p50),
            ms(ipc.p95),
            baseline_name.into(),
            format!("{r:.2}×"),
            verdict,
        ]);
    }

    if only("ops") {
        return format!(
            "## Operations\n\nServer: {}. Ratios are core p50 over the raw p50 measured in this run.\n{}",
            registry.target(),
            table.render()
        );
    }
    let replay = replay::replay_at_scale(registry.clone()).await;
    let offline = offline::offline_copy_at_scale(registry.clone()).await;
    let paging = paging_at_scale(&registry).await;
    format!(
        "## Registry benchmark\n\nServer: {}. Latencies in milliseconds; ratios are core p50 over the raw p50 measured in this run.\n{}\n{}\n\n{}\n{}",
        registry.target(),
        table.render(),
        replay,
        offline,
        paging
    )
}

/// The operations measured, in the order both measurements run them.
const OPERATIONS: [&str; 6] = [
    "create",
    "get",
    "list (page of 100 + total)",
    "update",
    "set_status",
    "delete",
];

fn named(results: [Summary; 6]) -> Vec<(&'static str, Summary)> {
    OPERATIONS.into_iter().zip(results).collect()
}

async fn core_operations(registry: &Registry) -> Vec<(&'static str, Summary)> {
    let total = WARMUP + ITERATIONS;
    let machines: Mutex<Vec<Machine>> = Mutex::new(Vec::with_capacity(total));
    let create = time_async(WARMUP, ITERATIONS, |i| {
        let machines = &machines;
        async move {
            let created = registry
                .create_machine(&fixtures::create_write(&format!("CORE-{i:05}"), i))
                .await
                .expect("create");
            machines.lock().expect("lock").push(created);
        }
    })
    .await;
    let pick = |i: usize| machines.lock().expect("lock")[i % total].clone();
    let get = time_async(WARMUP, ITERATIONS, |i| {
        let uid = pick(i).uid;
        async move {
            registry.get_machine(uid).await.expect("get");
        }
    })
    .await;
    let list = time_async(WARMUP, ITERATIONS, |_| async {
        let page = registry
            .list_machines(&ListQuery::default())
            .await
            .expect("list");
        assert_eq!(page.machines.len(), 100);
    })
    .await;
    let update = time_async(WARMUP, ITERATIONS, |i| {
        let current = pick(i);
        let machines = &machines;
        async move {
            let mut input = fixtures::input(&current.machine_name, i);
            input.efficiency = Some(50.5);
            let write = UpdateMachine {
                write_id: Uuid::new_v4(),
                uid: current.uid,
                expected_version: current.version,
                efficiency_seen: None,
                machine: input,
            };
            let updated = registry.update_machine(&write).await.expect("update");
            machines.lock().expect("lock")[i % total] = updated;
        }
    })
    .await;
    let set_status = time_async(WARMUP, ITERATIONS, |i| {
        let current = pick(i);
        let machines = &machines;
        async move {
            let status = if current.operational_status.as_str() == "Down" {
                "Running"
            } else {
                "Down"
            };
            let write = SetMachineStatus {
                write_id: Uuid::new_v4(),
                uid: current.uid,
                status: status.into(),
            };
            let changed = registry
                .set_machine_status(&write)
                .await
                .expect("set status");
            machines.lock().expect("lock")[i % total] = changed;
        }
    })
    .await;
    let delete = time_async(WARMUP, ITERATIONS, |i| {
        let current = pick(i);
        async move {
            let write = DeleteMachine {
                write_id: Uuid::new_v4(),
                uid: current.uid,
                expected_version: current.version,
            };
            registry.delete_machine(&write).await.expect("delete");
        }
    })
    .await;
    named([create, get, list, update, set_status, delete])
}

/// The same operations as JSON through Tauri's IPC layer (mock runtime), as the UI calls them.
async fn ipc_operations(registry: Arc<Registry>) -> Vec<(&'static str, Summary)> {
    let registry = Registry::from_pool(registry.pool().clone(), registry.target().clone());
    let synced = support::synced(registry).await;
    tokio::task::spawn_blocking(move || {
        let app = support::MockApp::new(synced);
        let total = WARMUP + ITERATIONS;
        let mut machines: Vec<serde_json::Value> = Vec::with_capacity(total);
        let create = time_blocking(WARMUP, ITERATIONS, |i| {
            let write = json!({ "write_id": Uuid::new_v4(), "uid": Uuid::new_v4(),
                "machine": fixtures::input(&format!("IPC-{i:05}"), i) });
            machines.push(app.invoke("create_machine", json!({ "write": write })).expect("create")["machine"].clone());
        });
        let get = time_blocking(WARMUP, ITERATIONS, |i| {
            app.invoke("get_machine", json!({ "uid": machines[i % total]["uid"] })).expect("get");
        });
        let query = json!({ "query": ListQuery::default() });
        let list = time_blocking(WARMUP, ITERATIONS, |_| {
            app.invoke("list_machines", query.clone()).expect("list");
        });
        let update = time_blocking(WARMUP, ITERATIONS, |i| {
            let current = &machines[i % total];
            let mut input = fixtures::input(current["machine_name"].as_str().unwrap_or_default(), i);
            input.efficiency = Some(50.5);
            let write = json!({ "write_id": Uuid::new_v4(), "uid": current["uid"],
                "expected_version": current["version"], "machine": input });
            machines[i % total] = app.invoke("update_machine", json!({ "write": write })).expect("update")["machine"].clone();
        });
        let set_status = time_blocking(WARMUP, ITERATIONS, |i| {
            let current = &machines[i % total];
            let status = if current["operational_status"] == "Down" { "Running" } else { "Down" };
            let write = json!({ "write_id": Uuid::new_v4(), "uid": current["uid"], "status": status });
            machines[i % total] = app.invoke("set_machine_status", json!({ "write": write })).expect("status")["machine"].clone();
        });
        let delete = time_blocking(WARMUP, ITERATIONS, |i| {
            let current = &machines[i % total];
            let write = json!({ "write_id": Uuid::new_v4(), "uid": current["uid"], "expected_version": current["version"] });
            app.invoke("delete_machine", json!({ "write": write })).expect("delete");
        });
        named([create, get, list, update, set_status, delete])
    })
    .await
    .expect("IPC benchmark thread")
}

async fn paging_at_scale(registry: &Registry) -> String {
    let pool = registry.pool();
    sqlx::query("TRUNCATE machines, applied_writes")
        .execute(pool)
        .await
        .expect("truncate");
    fixtures::bulk_insert(pool, FLEET, "M-").await;
    let mut table = Table::new(
        &format!("A page of 100 out of {FLEET} machines ({PAGE_ITERATIONS} timed runs each; target: page p50 ≤ 1 ms)"),
        &["query", "page p50 ms", "page p95 ms", "total count p50 ms", "page + total (as the app runs them) p50 ms", "matches", "page ≤ 1 ms"],
    );
    let mut cases: Vec<(String, ListQuery)> = Vec::new();
    for sort in SortColumn::ALL {
        for direction in [SortDirection::Asc, SortDirection::Desc] {
            let name = format!(
                "sort {} {}",
                serde_json::to_value(sort)
                    .unwrap_or_default()
                    .as_str()
                    .unwrap_or_default(),
                serde_json::to_value(direction)
                    .unwrap_or_default()
                    .as_str()
                    .unwrap_or_default()
            );
            cases.push((
                name,
                ListQuery {
                    sort,
                    direction,
                    ..ListQuery::default()
                },
            ));
        }
    }
    cases.push((
        "status = Down, sort name".into(),
        ListQuery {
            statuses: vec!["Down".into()],
            ..ListQuery::default()
        },
    ));
    cases.push((
        "type = Press, sort efficiency desc".into(),
        ListQuery {
            machine_type: Some("Press".into()),
            sort: SortColumn::Efficiency,
            direction: SortDirection::Desc,
            ..ListQuery::default()
        },
    ));
    cases.push((
        "search \"m-0421\" (selective)".into(),
        ListQuery {
            search: Some("m-0421".into()),
            ..ListQuery::default()
        },
    ));
    cases.push((
        "search \"m-0\" (broad)".into(),
        ListQuery {
            search: Some("m-0".into()),
            ..ListQuery::default()
        },
    ));
    cases.push((
        "sort name, page at offset 50,000".into(),
        ListQuery {
            offset: 50_000,
            ..ListQuery::default()
        },
    ));
    // What the window sends after 500 presses of Next: the page after the last row shown.
    for (label, sort, direction) in [
        ("sort name", SortColumn::MachineName, SortDirection::Asc),
        (
            "sort efficiency desc",
            SortColumn::Efficiency,
            SortDirection::Desc,
        ),
    ] {
        let deep = ListQuery {
            sort,
            direction,
            offset: 49_999,
            limit: 1,
            ..ListQuery::default()
        };
        let boundary = repo::list_machines(pool, &deep.validate().expect("valid query"))
            .await
            .expect("boundary row")
            .first()
            .map(|m| m.id);
        cases.push((
            format!("{label}, Next after row 50,000 (keyset)"),
            ListQuery {
                sort,
                direction,
                offset: 50_000,
                after_id: boundary,
                ..ListQuery::default()
            },
        ));
    }

    let mut over_target = 0;
    for (name, query) in cases {
        let valid = query.validate().expect("valid query");
        let page = time_async(10, PAGE_ITERATIONS, |_| async {
            repo::list_machines(pool, &valid).await.expect("page");
        })
        .await;
        let count = time_async(5, PAGE_ITERATIONS / 4, |_| async {
            repo::count_machines(pool, &valid).await.expect("count");
        })
        .await;
        let both = time_async(5, PAGE_ITERATIONS / 4, |_| async {
            registry.list_machines(&query).await.expect("list");
        })
        .await;
        let matches = repo::count_machines(pool, &valid).await.expect("count");
        let ok = page.p50 <= Duration::from_millis(1);
        if !ok && query.offset == 0 {
            over_target += 1;
        }
        table.row(&[
            name,
            ms(page.p50),
            ms(page.p95),
            ms(count.p50),
            ms(both.p50),
            matches.to_string(),
            if ok { "✓".into() } else { "✗".into() },
        ]);
    }
    format!(
        "{}\n\nFirst-page queries over 1 ms at p50: {over_target}.",
        table.render()
    )
}
