//! Latency samples and the table they are printed in.

use std::future::Future;
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct Summary {
    pub p50: Duration,
    pub p95: Duration,
}

pub fn summarise(mut samples: Vec<Duration>) -> Summary {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Summary {
        p50: at(0.50),
        p95: at(0.95),
    }
}

/// Times `iterations` runs of `op` after `warmup` untimed ones; `op` gets the iteration number.
pub async fn time_async<F, Fut>(warmup: usize, iterations: usize, mut op: F) -> Summary
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = ()>,
{
    for i in 0..warmup {
        op(i).await;
    }
    let mut samples = Vec::with_capacity(iterations);
    for i in warmup..warmup + iterations {
        let start = Instant::now();
        op(i).await;
        samples.push(start.elapsed());
    }
    summarise(samples)
}

pub fn time_blocking(warmup: usize, iterations: usize, mut op: impl FnMut(usize)) -> Summary {
    for i in 0..warmup {
        op(i);
    }
    let mut samples = Vec::with_capacity(iterations);
    for i in warmup..warmup + iterations {
        let start = Instant::now();
        op(i);
        samples.push(start.elapsed());
    }
    summarise(samples)
}

pub fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

pub struct Table {
    lines: Vec<String>,
}

impl Table {
    pub fn new(title: &str, header: &[&str]) -> Self {
        let mut lines = vec![
            format!("\n### {title}\n"),
            format!("| {} |", header.join(" | ")),
        ];
        lines.push(format!("|{}|", vec!["---"; header.len()].join("|")));
        Self { lines }
    }
    pub fn row(&mut self, cells: &[String]) {
        self.lines.push(format!("| {} |", cells.join(" | ")));
    }
    pub fn render(&self) -> String {
        self.lines.join("\n")
    }
}
