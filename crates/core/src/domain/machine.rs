use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::OperationalStatus;

/// A machine as stored. `id` is the tutorial's serial key (other tools use it); `uid` is the
/// identity the app uses, which a client can choose before the row exists (offline entry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Machine {
    pub id: i32,
    pub uid: Uuid,
    pub machine_name: String,
    pub machine_type: String,
    pub operational_status: OperationalStatus,
    /// OEE in percent, 0 to 100; `null` when the stored value is not (see `problems`).
    pub efficiency: Option<f64>,
    /// The shift record whose OEE the efficiency is (it follows the latest completed shift);
    /// `null` when the value was typed, in the app or by another tool.
    #[serde(default)]
    pub efficiency_shift: Option<Uuid>,
    /// UTC instant (RFC 3339); the UI shows it in local time. `null` when the stored value is not a
    /// date the app can show (see `problems`).
    pub last_maintenance: Option<DateTime<Utc>>,
    /// Optimistic-concurrency token: send it back with an update or delete.
    pub version: i64,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// Why some values are not shown: another tool stored them in a form the app cannot represent
    /// ('infinity', a year 262143, …). Empty for a sound row.
    pub problems: Vec<String>,
}

/// How many machines have a status (for "12 Running · 3 Down").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct StatusCount {
    pub status: OperationalStatus,
    pub count: i64,
}
