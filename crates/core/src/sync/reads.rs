//! Reads that still answer while the database is away: from the offline copy of the fleet
//! (kept current by the sync worker), else from the last page seen. Either way the answer is
//! marked with the time it was current.

use std::sync::Arc;

use chrono::Utc;

use super::{FleetCopy, Outbox, SyncedRegistry};
use crate::domain::{ListQuery, Machine, MachinePage, StatusCount, ValidListQuery};
use crate::error::RegistryError;
use crate::Registry;

const LAST_LIST: &str = "last_list";
/// Remembers the fingerprint of a fleet too large to copy, so it is not fetched again for
/// nothing until it changes.
const TOO_LARGE: &str = "fleet_too_large";
/// The most machines kept offline: about 300 bytes each, so about 6 MB of copy. A larger fleet
/// falls back to the last page seen.
pub const FLEET_COPY_LIMIT: i64 = 20_000;
const TOO_LARGE_RECHECK: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

impl SyncedRegistry {
    /// A page from the server (the page is also kept as the last one seen); offline, the same
    /// page from the fleet copy, or else the last page seen.
    pub async fn list_machines(&self, query: &ListQuery) -> Result<MachinePage, RegistryError> {
        match self.ask_server(self.registry.list_machines(query)).await {
            Ok(page) => {
                let (registry, outbox) = (self.registry.clone(), self.outbox.clone());
                let refreshing = self.fleet_refreshing.clone();
                // While live updates are heard the copy follows each change: no fingerprint
                // check per list (200 PCs would each read the fleet after every change).
                let check_fleet = !self.live();
                let json = serde_json::to_string(&page).ok();
                // Off the response path: the copies are for later, the operator waits now. The
                // fleet copy is checked after every list seen (or follows live changes), so
                // offline it is never older than what the operator last saw.
                spawn_logged("keeping the offline copies", async move {
                    if let Some(json) = json {
                        if let Err(e) = outbox.cache_put(LAST_LIST, &json).await {
                            tracing::warn!(error = %e, "could not keep the offline copy of the list");
                        }
                    }
                    if !check_fleet {
                        return;
                    }
                    let _one_at_a_time = refreshing.lock().await;
                    if let Err(e) = refresh_fleet_copy(&registry, &outbox).await {
                        tracing::warn!(error = %e, "could not refresh the offline copy of the fleet");
                    }
                });
                Ok(page)
            }
            Err(RegistryError::Unavailable(reason)) => {
                if let Some((copy, query)) = self.offline_copy(query).await? {
                    return Ok(copy.page(&query));
                }
                match self.outbox.cache_get(LAST_LIST).await? {
                    Some((json, saved_at)) => {
                        let mut page: MachinePage = serde_json::from_str(&json)
                            .map_err(|e| RegistryError::Internal(format!("offline copy: {e}")))?;
                        page.cached_at = Some(saved_at);
                        Ok(page)
                    }
                    None => Err(RegistryError::Unavailable(reason)),
                }
            }
            Err(other) => Err(other),
        }
    }

    /// Machines per status for the status filter; offline, from the fleet copy.
    pub async fn status_counts(
        &self,
        query: &ListQuery,
    ) -> Result<Vec<StatusCount>, RegistryError> {
        match self.ask_server(self.registry.status_counts(query)).await {
            Err(RegistryError::Unavailable(reason)) => match self.offline_copy(query).await? {
                Some((copy, query)) => Ok(copy.status_counts(&query)),
                None => Err(RegistryError::Unavailable(reason)),
            },
            other => other,
        }
    }

    /// The machine types for the type filter; offline, from the fleet copy.
    pub async fn machine_types(&self) -> Result<Vec<String>, RegistryError> {
        match self.ask_server(self.registry.machine_types()).await {
            Err(RegistryError::Unavailable(reason)) => match self.fleet_copy().await? {
                Some(copy) => Ok(copy.machine_types()),
                None => Err(RegistryError::Unavailable(reason)),
            },
            other => other,
        }
    }

    /// One machine; offline, from the fleet copy.
    pub async fn get_machine(&self, uid: uuid::Uuid) -> Result<Machine, RegistryError> {
        match self.ask_server(self.registry.get_machine(uid)).await {
            Err(RegistryError::Unavailable(reason)) => match self.fleet_copy().await? {
                Some(copy) => copy.get(uid).ok_or(RegistryError::Unavailable(reason)),
                None => Err(RegistryError::Unavailable(reason)),
            },
            other => other,
        }
    }

    /// A machine's change history. It lives on the server only: offline, the database is
    /// unavailable for it.
    pub async fn machine_history(
        &self,
        uid: uuid::Uuid,
    ) -> Result<Vec<crate::domain::HistoryEntry>, RegistryError> {
        self.ask_server(self.registry.machine_history(uid)).await
    }

    /// Takes a new copy of the fleet when it changed since the last one.
    pub async fn refresh_fleet_copy(&self) -> Result<(), RegistryError> {
        let _one_at_a_time = self.fleet_refreshing.lock().await;
        refresh_fleet_copy(&self.registry, &self.outbox).await
    }

    /// After a write applied online: the copy follows at once, off the response path.
    pub(super) fn keep_in_fleet_copy(&self, machine: &Machine, deleted: bool) {
        let outbox = self.outbox.clone();
        let machine = machine.clone();
        spawn_logged("updating the offline copy", async move {
            let kept = if deleted {
                outbox.fleet_remove(machine.uid).await
            } else {
                outbox.fleet_put(&machine).await
            };
            if let Err(e) = kept {
                tracing::warn!(error = %e, "could not update the offline copy of the fleet");
            }
        });
    }

    async fn offline_copy(
        &self,
        query: &ListQuery,
    ) -> Result<Option<(Arc<FleetCopy>, ValidListQuery)>, RegistryError> {
        let query = query.validate().map_err(RegistryError::Validation)?;
        Ok(self.fleet_copy().await?.map(|copy| (copy, query)))
    }

    /// The fleet copy (for the export's offline answer).
    pub(super) async fn fleet_copy_now(&self) -> Result<Option<Arc<FleetCopy>>, RegistryError> {
        self.fleet_copy().await
    }

    /// The fleet copy, read from disk only when it changed since the last read.
    async fn fleet_copy(&self) -> Result<Option<Arc<FleetCopy>>, RegistryError> {
        let generation = self.outbox.fleet_generation();
        if let Ok(memo) = self.fleet_memo.lock() {
            if let Some((at, copy)) = memo.as_ref() {
                if *at == generation {
                    return Ok(Some(copy.clone()));
                }
            }
        }
        let copy = self.outbox.fleet_copy().await?.map(Arc::new);
        if let (Some(copy), Ok(mut memo)) = (&copy, self.fleet_memo.lock()) {
            *memo = Some((generation, copy.clone()));
        }
        Ok(copy)
    }

    /// The server's answer, unless the database is known to be away; finding it away is
    /// noted (the worker then watches for its return).
    pub(super) async fn ask_server<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, RegistryError>>,
    ) -> Result<T, RegistryError> {
        if self.known_offline() {
            return Err(self.offline_reason());
        }
        let answer = call.await;
        if let Err(RegistryError::Unavailable(reason)) = &answer {
            self.went_offline(reason.clone());
        }
        answer
    }

    pub(super) fn offline_reason(&self) -> RegistryError {
        RegistryError::Unavailable(
            self.status()
                .reason
                .unwrap_or_else(|| "the database is unreachable".into()),
        )
    }
}

/// Takes a new copy of the fleet when its fingerprint changed since the last one (the
/// fingerprint is cheap to ask for; the copy is not). A fleet found too large to copy is not
/// asked about again for ten minutes.
async fn refresh_fleet_copy(registry: &Registry, outbox: &Outbox) -> Result<(), RegistryError> {
    if let Some((_, since)) = outbox.cache_get(TOO_LARGE).await? {
        if Utc::now() - since < TOO_LARGE_RECHECK {
            return Ok(());
        }
    }
    let signature = registry.fleet_signature().await?;
    if outbox.fleet_signature().await?.as_deref() == Some(signature.as_str()) {
        return Ok(());
    }
    let small_enough = signature_count(&signature).is_some_and(|count| count <= FLEET_COPY_LIMIT);
    // The copy and its fingerprint come from one snapshot, so the fingerprint kept is exactly
    // the copy's, whatever commits meanwhile.
    let snapshot = if small_enough {
        Some(registry.fleet_snapshot(FLEET_COPY_LIMIT + 1).await?)
    } else {
        None
    };
    match snapshot {
        Some((machines, signature)) if machines.len() as i64 <= FLEET_COPY_LIMIT => {
            outbox.fleet_replace(&machines, &signature).await
        }
        _ => {
            tracing::warn!(
                limit = FLEET_COPY_LIMIT,
                "the fleet is too large to keep offline; offline, the last page seen is shown"
            );
            outbox.fleet_clear().await?;
            outbox.cache_put(TOO_LARGE, &signature).await
        }
    }
}

/// Runs `work` in the background; a panic in it is logged rather than lost with the task.
pub(super) fn spawn_logged(
    what: &'static str,
    work: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let task = tokio::spawn(work);
    tokio::spawn(async move {
        if let Err(e) = task.await {
            if e.is_panic() {
                tracing::error!(error = %e, what, "a background task panicked");
            }
        }
    });
}

/// The machine count the fingerprint starts with (`repo::fleet_signature`).
fn signature_count(signature: &str) -> Option<i64> {
    signature.split('/').next()?.parse().ok()
}
