//! The record of applied write ids, which makes retries and replays idempotent.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::error::{from_sqlx, RegistryError};

/// Forgets up to `limit` of the write ids applied before `before`, oldest first; returns how
/// many. Bounded so that each call holds its locks briefly.
pub async fn prune_applied_writes(
    db: impl PgExecutor<'_>,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<u64, RegistryError> {
    sqlx::query(
        "DELETE FROM applied_writes WHERE write_id IN (
             SELECT write_id FROM applied_writes WHERE applied_at < $1 ORDER BY applied_at LIMIT $2
         )",
    )
    .bind(before)
    .bind(limit)
    .execute(db)
    .await
    .map(|done| done.rows_affected())
    .map_err(from_sqlx)
}
