//! The record of applied write ids, which makes retries and replays idempotent.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::error::{from_sqlx, RegistryError};

/// Forgets up to `limit` of the write ids applied before `before`, oldest first; returns how
/// many. Bounded so that each call holds its locks briefly. Runs through the owner's function
/// (migration 5), which never forgets a write id younger than the retention: the app's roles
/// may not delete from `applied_writes` themselves.
pub async fn prune_applied_writes(
    db: impl PgExecutor<'_>,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<u64, RegistryError> {
    let limit = i32::try_from(limit).unwrap_or(i32::MAX);
    sqlx::query_scalar::<_, i64>("SELECT public.mes_prune_applied_writes($1, $2)")
        .bind(before)
        .bind(limit)
        .fetch_one(db)
        .await
        .map(|done| u64::try_from(done).unwrap_or(0))
        .map_err(from_sqlx)
}
