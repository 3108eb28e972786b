//! What the change history costs an online write: the same status changes and edits through the
//! core with the history and the status periods it feeds, with the history alone, and with
//! neither, in alternating passes of one run. The bound: with history, within 1.2× of the write without it.

use mes_core::domain::{Machine, SetMachineStatus, UpdateMachine};
use mes_core::Registry;
use uuid::Uuid;

use crate::fixtures;
use crate::stats::{ms, time_async, Summary, Table};

const MACHINES: usize = 200;
const RUNS: usize = 1000;
/// Passes cycle through the three recordings: a drift of the machine's speed during the run
/// weighs on every side alike.
const PASSES: usize = 9;
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

/// What is switched on for a pass.
#[derive(Clone, Copy, PartialEq)]
enum Recording {
    /// The history and the status periods it feeds (as shipped).
    Full,
    /// The history alone (the periods' trigger off).
    HistoryOnly,
    /// Neither: the write as it was before the history.
    Nothing,
}

async fn record(registry: &Registry, recording: Recording) {
    let (history, periods) = match recording {
        Recording::Full => ("ENABLE", "ENABLE"),
        Recording::HistoryOnly => ("ENABLE", "DISABLE"),
        Recording::Nothing => ("DISABLE", "DISABLE"),
    };
    for statement in [
        format!("ALTER TABLE machines {history} TRIGGER machines_history"),
        format!("ALTER TABLE machine_history {periods} TRIGGER machine_history_track_status"),
    ] {
        sqlx::query(&statement)
            .execute(registry.pool())
            .await
            .expect("history triggers");
    }
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
    let order = [Recording::Full, Recording::Nothing, Recording::HistoryOnly];
    let mut passes: Vec<(Recording, (Summary, Summary))> = Vec::new();
    for pass in 0..PASSES {
        let recording = order[pass % order.len()];
        record(registry, recording).await;
        passes.push((recording, writes(registry, &mut machines).await));
    }
    record(registry, Recording::Full).await;

    let mut table = Table::new(
        &format!(
            "Write cost of the change history ({RUNS} timed writes per pass; {PASSES} passes cycling: history and periods, nothing, history alone)"
        ),
        &[
            "write",
            "p50 history + periods ms",
            "p50 history alone ms",
            "p50 without ms",
            "ratio history + periods",
            "ratio history alone",
            "target",
        ],
    );
    let of = |recording: Recording, status: bool| -> Vec<Summary> {
        passes
            .iter()
            .filter(|(r, _)| *r == recording)
            .map(|(_, (s, u))| if status { s.clone() } else { u.clone() })
            .collect()
    };
    for (name, status) in [("set_status", true), ("update", false)] {
        let full = of(Recording::Full, status);
        let alone = of(Recording::HistoryOnly, status);
        let without = of(Recording::Nothing, status);
        let ratio = mean_p50(&full) / mean_p50(&without);
        let ratio_alone = mean_p50(&alone) / mean_p50(&without);
        table.row(&[
            name.into(),
            p50s(&full),
            p50s(&alone),
            p50s(&without),
            format!("{ratio:.2}×"),
            format!("{ratio_alone:.2}×"),
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
