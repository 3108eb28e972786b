//! What alerts are raised from: the change history after a position, read in id order. Every
//! row is returned (with its id), relevant or not, so the caller can tell a gap in the ids (a
//! change not yet committed, or rolled back) from the end of the history.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::error::{from_sqlx, RegistryError};

/// One history row, with what an alert needs when it is one of interest.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct HistoryEvent {
    pub id: i64,
    pub machine_uid: Uuid,
    /// The machine's name now, else as last recorded, else its number.
    pub machine_name: String,
    pub operation: String,
    pub changed_at: DateTime<Utc>,
    pub db_user: String,
    pub application: String,
    /// Set when the row set the status (to this).
    pub new_status: Option<String>,
    /// Set when the row changed the efficiency: before and after (either may be empty).
    pub efficiency_changed: bool,
    pub old_efficiency: Option<f64>,
    pub new_efficiency: Option<f64>,
    /// Made by this session's user through this app on this PC.
    pub own: bool,
    /// The server's time when the row was read (gaps are judged by the server's clock).
    pub read_at: DateTime<Utc>,
}

/// The history rows after `after`, oldest first, at most `limit`.
pub async fn history_events_after(
    db: impl PgExecutor<'_>,
    after: i64,
    limit: i64,
) -> Result<Vec<HistoryEvent>, RegistryError> {
    // Efficiencies another tool wrote as text that is not a number read as empty, never fail
    // the whole read.
    sqlx::query_as(
        "SELECT h.id, h.machine_uid,
                coalesce(m.machine_name, h.changes -> 'machine_name' ->> 1,
                         'machine #' || h.machine_id) AS machine_name,
                h.operation, h.changed_at, h.db_user, h.application,
                CASE WHEN h.operation <> 'delete'
                     THEN h.changes -> 'operational_status' ->> 1 END AS new_status,
                h.changes ? 'efficiency' AS efficiency_changed,
                CASE WHEN jsonb_typeof(h.changes -> 'efficiency' -> 0) = 'number'
                     THEN (h.changes -> 'efficiency' ->> 0)::float8 END AS old_efficiency,
                CASE WHEN jsonb_typeof(h.changes -> 'efficiency' -> 1) = 'number'
                     THEN (h.changes -> 'efficiency' ->> 1)::float8 END AS new_efficiency,
                (h.db_user = session_user
                 AND h.application = coalesce(current_setting('application_name', true), ''))
                    AS own,
                now() AS read_at
         FROM machine_history h
         LEFT JOIN machines m ON m.uid = h.machine_uid
         WHERE h.id > $1
         ORDER BY h.id
         LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await
    .map_err(from_sqlx)
}

/// The newest history row's id (0 when there is none): where a new user's alerts begin.
pub async fn last_history_id(db: impl PgExecutor<'_>) -> Result<i64, RegistryError> {
    sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM machine_history")
        .fetch_one(db)
        .await
        .map_err(from_sqlx)
}
