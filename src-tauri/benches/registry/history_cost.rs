//! What the change history costs an online write: the same status changes and edits through the
//! core with the history trigger (and the status periods it feeds) on, then off, then on again,
//! in one run. The bound: with history, within 1.2× of the write without it.

use mes_core::domain::{Machine, SetMachineStatus, UpdateMachine};
use mes_core::Registry;
use uuid::Uuid;

use crate::fixtures;
use crate::stats::{ms, time_async, Summary, Table};

const MACHINES: usize = 200;
const RUNS: usize = 1000;
/// Passes alternate on, off, on, off, on: a drift of the machine's speed during the run
/// weighs on both sides alike.
const PASSES: usize = 5;
const TARGET: f64 = 1.2;

async fn writes(registry: &Registry, machines: &mut [Machine]) -> (Summary, Summary) {
    let shared = std::sync::Mutex::new(machines.to_vec());
    let pick = |i: usize| shared.lock().expect("lock")[i % MACHINES].clone();
    let status = time_async(50, RUNS, |i| {
        let current = pick(i);
        let shared = &shared;
        async move {
            let status = if current.operational_status.as_str() == "Down" {
                "Running"
            } else {
                "Down"
            };
            let changed = registry
                .set_machine_status(&SetMachineStatus {
                    write_id: Uuid::new_v4(),
                    uid: current.uid,
                    status: status.into(),
                })
                .await
                .expect("set status");
            shared.lock().expect("lock")[i % MACHINES] = changed;
        }
    })
    .await;
    let update = time_async(50, RUNS, |i| {
        let current = pick(i);
        let shared = &shared;
        async move {
            let mut input = fixtures::input(&current.machine_name, i);
            input.operational_status = current.operational_status.as_str().into();
            input.efficiency = Some((i % 100) as f64);
            let updated = registry
                .update_machine(&UpdateMachine {
                    write_id: Uuid::new_v4(),
                    uid: current.uid,
                    expected_version: current.version,
                    machine: input,
                })
                .await
                .expect("update");
            shared.lock().expect("lock")[i % MACHINES] = updated;
        }
    })
    .await;
    machines.clone_from_slice(&shared.into_inner().expect("lock"));
    (status, update)
}

async fn history(registry: &Registry, on: bool) {
    let statement = if on {
        "ALTER TABLE machines ENABLE TRIGGER machines_history"
    } else {
        "ALTER TABLE machines DISABLE TRIGGER machines_history"
    };
    sqlx::query(statement)
        .execute(registry.pool())
        .await
        .expect("history trigger");
}

pub async fn history_cost(registry: &Registry) -> String {
    let mut machines = Vec::with_capacity(MACHINES);
    for i in 0..MACHINES {
        machines.push(
            registry
                .create_machine(&fixtures::create_write(&format!("HIST-{i:04}"), i))
                .await
                .expect("create"),
        );
    }
    let (mut on, mut off) = (Vec::new(), Vec::new());
    for pass in 0..PASSES {
        let with_history = pass % 2 == 0;
        history(registry, with_history).await;
        let measured = writes(registry, &mut machines).await;
        if with_history {
            on.push(measured);
        } else {
            off.push(measured);
        }
    }
    history(registry, true).await;

    let mut table = Table::new(
        &format!(
            "Write cost of the change history ({RUNS} timed writes per pass; {PASSES} passes: on, off, on, …)"
        ),
        &["write", "p50 with history ms (passes)", "p50 without ms (passes)", "ratio of means", "target"],
    );
    let status = |passes: &[(Summary, Summary)]| -> Vec<Summary> {
        passes.iter().map(|p| p.0.clone()).collect()
    };
    let update = |passes: &[(Summary, Summary)]| -> Vec<Summary> {
        passes.iter().map(|p| p.1.clone()).collect()
    };
    for (name, with, without) in [
        ("set_status", status(&on), status(&off)),
        ("update", update(&on), update(&off)),
    ] {
        let ratio = mean_p50(&with) / mean_p50(&without);
        table.row(&[
            name.into(),
            p50s(&with),
            p50s(&without),
            format!("{ratio:.2}×"),
            format!("≤ {TARGET}× {}", if ratio <= TARGET { "✓" } else { "✗" }),
        ]);
    }
    table.render()
}

fn mean_p50(passes: &[Summary]) -> f64 {
    passes.iter().map(|s| s.p50.as_secs_f64()).sum::<f64>() / passes.len() as f64
}

fn p50s(passes: &[Summary]) -> String {
    passes
        .iter()
        .map(|s| ms(s.p50))
        .collect::<Vec<_>>()
        .join(" / ")
}
