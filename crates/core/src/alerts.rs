//! The registry's reads for alerts (online only: alerts come from what the server recorded).

use crate::error::RegistryError;
use crate::repo::{self, HistoryEvent};
use crate::Registry;

impl Registry {
    /// The change history after `after`, oldest first, at most `limit` rows.
    pub async fn history_events_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<HistoryEvent>, RegistryError> {
        self.ensure_schema().await?;
        self.db()
            .run(move |conn| {
                Box::pin(async move { repo::history_events_after(conn, after, limit).await })
            })
            .await
    }

    /// The newest history row's id (0 when there is none).
    pub async fn last_history_id(&self) -> Result<i64, RegistryError> {
        self.ensure_schema().await?;
        self.db()
            .run(|conn| Box::pin(async move { repo::last_history_id(conn).await }))
            .await
    }
}
