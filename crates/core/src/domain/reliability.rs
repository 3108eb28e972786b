//! Reliability over a range, from the status history: time in each status, Down periods, MTTR
//! and MTBF, per machine and per machine type.
//!
//! Definitions (the planner's questions, in the usual maintenance sense):
//! - a period that straddles an edge of the range counts only for its part inside it; a period
//!   still open (the machine is in that status now) counts up to now (or the range's end);
//! - **Down periods**: the Down periods that overlap the range; **failures**: those that begin
//!   in it (a machine already Down at the start did not fail in the range);
//! - **MTTR** (mean time to repair) = Down time in the range / Down periods;
//! - **MTBF** (mean time between failures) = Running time in the range / failures.
//!   Both are `None` when there is nothing to divide by (no Down period, no failure).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A range of time, `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct TimeRange {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl TimeRange {
    /// Refuses an empty or reversed range, or one longer than ten years.
    pub fn validate(&self) -> Result<(), String> {
        if self.to <= self.from {
            Err("The range must end after it begins.".into())
        } else if self.to - self.from > chrono::TimeDelta::days(3660) {
            Err("The range may cover at most ten years.".into())
        } else {
            Ok(())
        }
    }
}

/// Seconds in each status, and the Down periods, over a range.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct StatusTimes {
    pub running_s: f64,
    pub idle_s: f64,
    pub maintenance_s: f64,
    pub down_s: f64,
    /// Down periods overlapping the range.
    pub down_periods: i64,
    /// Down periods beginning in the range.
    pub failures: i64,
}

impl StatusTimes {
    pub fn observed_s(&self) -> f64 {
        self.running_s + self.idle_s + self.maintenance_s + self.down_s
    }

    pub fn mttr_s(&self) -> Option<f64> {
        (self.down_periods > 0).then(|| self.down_s / self.down_periods as f64)
    }

    pub fn mtbf_s(&self) -> Option<f64> {
        (self.failures > 0).then(|| self.running_s / self.failures as f64)
    }

    fn add(&mut self, other: &StatusTimes) {
        self.running_s += other.running_s;
        self.idle_s += other.idle_s;
        self.maintenance_s += other.maintenance_s;
        self.down_s += other.down_s;
        self.down_periods += other.down_periods;
        self.failures += other.failures;
    }
}

/// One machine's figures over the range (a machine deleted meanwhile keeps its last name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct MachineReliability {
    pub uid: Uuid,
    pub machine_name: String,
    pub machine_type: String,
    pub deleted: bool,
    pub times: StatusTimes,
    pub mttr_s: Option<f64>,
    pub mtbf_s: Option<f64>,
}

/// A machine type's figures: sums of its machines' times and periods (never an average of
/// their MTTRs or MTBFs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct TypeReliability {
    pub machine_type: String,
    pub machines: i64,
    pub times: StatusTimes,
    pub mttr_s: Option<f64>,
    pub mtbf_s: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ReliabilityReport {
    pub range: TimeRange,
    /// Lowest availability first is the UI's choice; here, by name.
    pub machines: Vec<MachineReliability>,
    pub types: Vec<TypeReliability>,
}

impl MachineReliability {
    pub fn new(
        uid: Uuid,
        machine_name: String,
        machine_type: String,
        deleted: bool,
        times: StatusTimes,
    ) -> Self {
        Self {
            uid,
            machine_name,
            machine_type,
            deleted,
            mttr_s: times.mttr_s(),
            mtbf_s: times.mtbf_s(),
            times,
        }
    }
}

/// Rolls the machines up by type, by sums.
pub fn by_type(machines: &[MachineReliability]) -> Vec<TypeReliability> {
    let mut types: std::collections::BTreeMap<&str, (i64, StatusTimes)> = Default::default();
    for machine in machines {
        let entry = types.entry(machine.machine_type.as_str()).or_default();
        entry.0 += 1;
        entry.1.add(&machine.times);
    }
    types
        .into_iter()
        .map(|(machine_type, (machines, times))| TypeReliability {
            machine_type: machine_type.to_owned(),
            machines,
            mttr_s: times.mttr_s(),
            mtbf_s: times.mtbf_s(),
            times,
        })
        .collect()
}

/// One stretch of a machine's status within a range (clipped to it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct StatusBand {
    pub status: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Still in this status now (the band ends at now).
    pub open: bool,
}

/// An efficiency value as recorded, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct EfficiencyPoint {
    pub at: DateTime<Utc>,
    pub efficiency: Option<f64>,
}

/// A machine over a range: its status bands, and its efficiency at the start and at each change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct MachineTimeline {
    pub uid: Uuid,
    pub range: TimeRange,
    pub bands: Vec<StatusBand>,
    pub efficiency: Vec<EfficiencyPoint>,
}
