//! The shift form's lists as this PC sees them (the reasons and the types' ideal cycle times):
//! the server's, or while the database is away the last ones seen, so a shift can be entered
//! offline with the reasons and defaults the plant uses.

use super::reads::spawn_logged;
use super::SyncedRegistry;
use crate::domain::{LossReason, TypeCycleTime};
use crate::error::RegistryError;

const LAST_LISTS: &str = "last_shift_form_lists";

/// The shift form's lists and whether they are the copy kept for offline use.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, specta::Type)]
pub struct ShiftFormLists {
    pub reasons: Vec<LossReason>,
    pub ideal_cycle_times: Vec<TypeCycleTime>,
    /// When the copy shown was taken (offline); `null` when it is the server's list.
    pub cached_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl SyncedRegistry {
    pub async fn shift_form_lists(&self) -> Result<ShiftFormLists, RegistryError> {
        let registry = &self.registry;
        let read = async {
            let reasons = registry.loss_reasons().await?;
            let ideal_cycle_times = registry.ideal_cycle_times().await?;
            Ok(ShiftFormLists {
                reasons,
                ideal_cycle_times,
                cached_at: None,
            })
        };
        match self.ask_server(read).await {
            Ok(lists) => {
                if let Ok(json) = serde_json::to_string(&lists) {
                    let outbox = self.outbox.clone();
                    spawn_logged("keeping the offline copy of the reasons", async move {
                        if let Err(e) = outbox.cache_put(LAST_LISTS, &json).await {
                            tracing::warn!(error = %e, "could not keep the offline copy of the reasons");
                        }
                    });
                }
                Ok(lists)
            }
            Err(RegistryError::Unavailable(reason)) => {
                match self.outbox.cache_get(LAST_LISTS).await? {
                    Some((json, saved_at)) => {
                        let mut lists: ShiftFormLists =
                            serde_json::from_str(&json).map_err(|e| {
                                RegistryError::Internal(format!("offline shift form lists: {e}"))
                            })?;
                        lists.cached_at = Some(saved_at);
                        Ok(lists)
                    }
                    None => Err(RegistryError::Unavailable(reason)),
                }
            }
            Err(other) => Err(other),
        }
    }
}
