//! The fleet's efficiency as planners should read it: the median and the distribution, never a
//! plain average of percentages presented as "fleet OEE" (a machine planned for 2 hours would
//! weigh as much as one planned for 24).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The usual world-class OEE, the default target.
pub const DEFAULT_EFFICIENCY_TARGET: f64 = 85.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct BelowTarget {
    pub uid: Uuid,
    pub machine_name: String,
    pub machine_type: String,
    pub efficiency: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct TypeEfficiency {
    pub machine_type: String,
    pub machines: i64,
    pub median: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct FleetEfficiency {
    pub target: f64,
    /// Machines with an efficiency on record.
    pub machines: i64,
    pub median: Option<f64>,
    /// Machines per 10-point band: [0, 10), [10, 20), … [90, 100].
    pub histogram: Vec<i64>,
    /// Lowest first.
    pub below_target: Vec<BelowTarget>,
    pub by_type: Vec<TypeEfficiency>,
}

/// A target must be a percentage.
pub fn validate_target(target: f64) -> Result<f64, String> {
    if target.is_finite() && (0.0..=100.0).contains(&target) {
        Ok(target)
    } else {
        Err("The target is a percentage from 0 to 100.".into())
    }
}
