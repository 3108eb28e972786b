use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One change of a machine, by anyone, as the database recorded it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct HistoryEntry {
    pub id: i64,
    /// `insert`, `update` or `delete`.
    pub operation: String,
    /// The server's clock when the change was made.
    pub at: DateTime<Utc>,
    /// The database user who made it.
    pub user: String,
    /// The program it came through (`application_name`: this app names its PC; `psql`, …).
    pub application: String,
    /// The machine's version after the change (for a delete, the version deleted).
    pub version: i64,
    /// The app's write, when the change was made by this app.
    pub write_id: Option<Uuid>,
    /// Each field that changed, old → new, as text.
    pub changes: Vec<FieldChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct FieldChange {
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}
