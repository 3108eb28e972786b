//! What the change history costs an online write: the same status changes and edits through the
//! core as shipped (history, the status periods it feeds, and the live announcement to other
//! PCs), without the announcement, with the history alone, and with none of them, in alternating
//! passes of one run. The bound: with history, within 1.2× of the write without it.

use mes_core::domain::{Machine, SetMachineStatus, UpdateMachine};
use mes_core::Registry;
use uuid::Uuid;

use crate::fixtures;
use crate::stats::{ms, time_async, Summary, Table};

const MACHINES: usize = 200;
const RUNS: usize = 1000;
/// Passes cycle through the three recordings: a drift of the machine's speed during the run
/// weighs on every side alike.
const PASSES: usize = 12;
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
                    efficiency_seen: None,
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
    /// The history, the status periods it feeds and the live announcement (as shipped).
    Shipped,
    /// The history and the status periods, no announcement.
    Full,
    /// The history alone (the periods' trigger off).
    HistoryOnly,
    /// Neither: the write as it was before the history.
    Nothing,
}

async fn record(registry: &Registry, recording: Recording) {
    let (history, periods, announce) = match recording {
        Recording::Shipped => ("ENABLE", "ENABLE", "ENABLE"),
        Recording::Full => ("ENABLE", "ENABLE", "DISABLE"),
        Recording::HistoryOnly => ("ENABLE", "DISABLE", "DISABLE"),
        Recording::Nothing => ("DISABLE", "DISABLE", "DISABLE"),
    };
    for statement in [
        format!("ALTER TABLE machines {history} TRIGGER machines_history"),
        format!("ALTER TABLE machine_history {periods} TRIGGER machine_history_track_status"),
        format!("ALTER TABLE machines {announce} TRIGGER machines_notify_update"),
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
    let order = [
        Recording::Shipped,
        Recording::Full,
        Recording::Nothing,
        Recording::HistoryOnly,
    ];
    let mut passes: Vec<(Recording, (Summary, Summary))> = Vec::new();
    for pass in 0..PASSES {
        let recording = order[pass % order.len()];
        record(registry, recording).await;
        passes.push((recording, writes(registry, &mut machines).await));
    }
    record(registry, Recording::Shipped).await;

    let mut table = Table::new(
        &format!(
            "Write cost of the change history and the live announcement ({RUNS} timed writes per pass; {PASSES} passes cycling: as shipped, without the announcement, nothing, history alone)"
        ),
        &[
            "write",
            "p50 as shipped ms",
            "p50 history + periods ms",
            "p50 history alone ms",
            "p50 without ms",
            "ratio as shipped",
            "ratio history + periods",
            "ratio history alone",
            "announcement's share",
            "target (history + periods)",
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
        let shipped = of(Recording::Shipped, status);
        let full = of(Recording::Full, status);
        let alone = of(Recording::HistoryOnly, status);
        let without = of(Recording::Nothing, status);
        let ratio = mean_p50(&full) / mean_p50(&without);
        let ratio_alone = mean_p50(&alone) / mean_p50(&without);
        let ratio_shipped = mean_p50(&shipped) / mean_p50(&without);
        let announcement = mean_p50(&shipped) / mean_p50(&full);
        table.row(&[
            name.into(),
            p50s(&shipped),
            p50s(&full),
            p50s(&alone),
            p50s(&without),
            format!("{ratio_shipped:.2}×"),
            format!("{ratio:.2}×"),
            format!("{ratio_alone:.2}×"),
            format!("{announcement:.2}×"),
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
