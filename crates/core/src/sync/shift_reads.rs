//! The shift form's reason list as this PC sees it: the server's, or while the database is away
//! the last one seen, so a shift can be entered offline with the reasons the plant uses.

use super::reads::spawn_logged;
use super::SyncedRegistry;
use crate::domain::LossReason;
use crate::error::RegistryError;

const LAST_REASONS: &str = "last_loss_reasons";

/// The reason list and whether it is the copy kept for offline use.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, specta::Type)]
pub struct LossReasonList {
    pub reasons: Vec<LossReason>,
    /// When the copy shown was taken (offline); `null` when it is the server's list.
    pub cached_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl SyncedRegistry {
    pub async fn loss_reasons(&self) -> Result<LossReasonList, RegistryError> {
        match self.ask_server(self.registry.loss_reasons()).await {
            Ok(reasons) => {
                if let Ok(json) = serde_json::to_string(&reasons) {
                    let outbox = self.outbox.clone();
                    spawn_logged("keeping the offline copy of the reasons", async move {
                        if let Err(e) = outbox.cache_put(LAST_REASONS, &json).await {
                            tracing::warn!(error = %e, "could not keep the offline copy of the reasons");
                        }
                    });
                }
                Ok(LossReasonList {
                    reasons,
                    cached_at: None,
                })
            }
            Err(RegistryError::Unavailable(reason)) => {
                match self.outbox.cache_get(LAST_REASONS).await? {
                    Some((json, saved_at)) => Ok(LossReasonList {
                        reasons: serde_json::from_str(&json).map_err(|e| {
                            RegistryError::Internal(format!("offline reasons: {e}"))
                        })?,
                        cached_at: Some(saved_at),
                    }),
                    None => Err(RegistryError::Unavailable(reason)),
                }
            }
            Err(other) => Err(other),
        }
    }
}
