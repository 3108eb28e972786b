//! The change history (`machine_history`, filled by a trigger for every change by anyone).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::{FieldChange, HistoryEntry};
use crate::error::{from_sqlx, RegistryError};

#[derive(sqlx::FromRow)]
struct HistoryRow {
    id: i64,
    operation: String,
    changed_at: DateTime<Utc>,
    db_user: String,
    application: String,
    version: i64,
    write_id: Option<Uuid>,
    changes: String,
}

/// A machine's changes, newest first, up to `limit`. The app's own changes carry their write id:
/// the write that produced that version (or deleted the machine) in `applied_writes`.
pub async fn machine_history(
    db: impl PgExecutor<'_>,
    uid: Uuid,
    limit: i64,
) -> Result<Vec<HistoryEntry>, RegistryError> {
    let rows: Vec<HistoryRow> = sqlx::query_as(
        "SELECT h.id, h.operation, h.changed_at, h.db_user, h.application, h.version,
                (SELECT w.write_id FROM applied_writes w
                 WHERE w.machine_uid = h.machine_uid
                   AND CASE WHEN h.operation = 'delete'
                            THEN w.kind = 'delete' AND w.version_before = h.version
                            ELSE w.version_after = h.version
                                 AND w.version_before IS DISTINCT FROM w.version_after END
                 LIMIT 1) AS write_id,
                h.changes::text AS changes
         FROM machine_history h WHERE h.machine_uid = $1 ORDER BY h.id DESC LIMIT $2",
    )
    .bind(uid)
    .bind(limit)
    .fetch_all(db)
    .await
    .map_err(from_sqlx)?;
    rows.into_iter().map(entry).collect()
}

fn entry(row: HistoryRow) -> Result<HistoryEntry, RegistryError> {
    let changes: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&row.changes)
        .map_err(|e| RegistryError::Internal(format!("history {}: {e}", row.id)))?;
    let text = |value: Option<&serde_json::Value>| match value {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    Ok(HistoryEntry {
        id: row.id,
        operation: row.operation,
        at: row.changed_at,
        user: row.db_user,
        application: row.application,
        version: row.version,
        write_id: row.write_id,
        changes: changes
            .iter()
            .map(|(field, pair)| FieldChange {
                field: field.clone(),
                old: text(pair.get(0)),
                new: text(pair.get(1)),
            })
            .collect(),
    })
}
