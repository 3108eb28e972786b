//! Live updates: one LISTEN connection per app on the channel migration 10 announces every
//! machine change on. Changes arriving close together are taken as one batch: the offline copy
//! of the fleet takes the changed machines (one query for the batch), then the listener (the
//! window) is told which machines changed.
//!
//! A notification is only a hint. Whenever the listener (re)starts listening, changes may have
//! been missed, so the fleet's fingerprint is compared and the window told to reload
//! ([`ChangeKind::Resync`]). While the listener is up the worker does not poll the fingerprint;
//! when LISTEN is unavailable (a transaction pooler, a dropped connection) it does, as before,
//! and says so in the log. A network that freezes is noticed by a heartbeat on the listening
//! connection.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgListener, PgPoolOptions};
use uuid::Uuid;

use super::{Connection, SyncedRegistry};
use crate::error::RegistryError;

/// The channel migration 10's trigger notifies.
pub const CHANNEL: &str = "mes_machines";
/// Notifications arriving within about this of the first (half to one and a half times it, a
/// different length on each PC) are one batch: one read of the machines they name, one reload
/// of the window (measured with `make load`: 200 PCs).
const GATHER: Duration = Duration::from_millis(200);
/// Past the batch limit, the burst is over when the channel is quiet this long.
const QUIET: Duration = Duration::from_millis(50);
/// At most this many changes in a batch; a larger burst is told as one resync.
const BATCH_LIMIT: usize = 500;
/// Silence longer than this makes the listener check its connection.
const HEARTBEAT: Duration = Duration::from_secs(15);
/// How often a quiet listener looks whether the app moved to another server (a failover).
const SWITCH_CHECK: Duration = Duration::from_secs(1);
/// Wait before listening again after LISTEN failed.
const RETRY: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Insert,
    Update,
    Delete,
    /// Every machine was removed (TRUNCATE; the server now announces it as a resync).
    Truncate,
    /// Many machines changed at once, or changes may have been missed: read everything shown
    /// again.
    Resync,
}

/// One machine changed (by anyone), as announced by the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct MachineChange {
    pub kind: ChangeKind,
    pub uid: Option<Uuid>,
    pub version: Option<i64>,
}

impl MachineChange {
    /// Reads a notification's payload; anything else on the channel is ignored.
    pub fn parse(payload: &str) -> Option<Self> {
        serde_json::from_str(payload).ok()
    }

    fn resync() -> Self {
        Self {
            kind: ChangeKind::Resync,
            uid: None,
            version: None,
        }
    }
}

/// Marks the app as listening for as long as it lives (however the listening ends, even by
/// the task being aborted).
struct Listening<'a>(&'a SyncedRegistry);

impl<'a> Listening<'a> {
    fn start(synced: &'a SyncedRegistry) -> Self {
        synced.live.store(true, Ordering::Release);
        Self(synced)
    }
}

impl Drop for Listening<'_> {
    fn drop(&mut self) {
        self.0.live.store(false, Ordering::Release);
    }
}

/// Called with each batch of changes (the app tells the window).
pub type LiveListener = Arc<dyn Fn(&[MachineChange]) + Send + Sync>;

impl SyncedRegistry {
    pub fn set_live_listener(&self, listener: LiveListener) {
        if let Ok(mut slot) = self.live_listener.lock() {
            *slot = Some(listener);
        }
    }

    /// True while this app is listening for changes (then nothing polls for them).
    pub fn live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    /// The listener's own task (beside the sync worker): listens while online, and again after
    /// every loss of its connection.
    pub(super) async fn live_loop(self: Arc<Self>) {
        let mut said_unavailable = false;
        while !self.is_stopping() {
            if self.status().connection != Connection::Online {
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            let mut listener = match self.listen().await {
                Ok(listener) => listener,
                Err(e) => {
                    if !said_unavailable {
                        tracing::warn!(error = %e, "LISTEN is unavailable: changes by other PCs are found by the fleet's fingerprint, checked every 30 s");
                        said_unavailable = true;
                    }
                    tokio::time::sleep(RETRY).await;
                    continue;
                }
            };
            said_unavailable = false;
            let listening = Listening::start(&self);
            tracing::info!("listening for changes by other PCs");
            // Whatever happened while nobody listened.
            self.catch_up().await;
            let ended = self.receive(&mut listener).await;
            drop(listening);
            tracing::info!(reason = %ended, "stopped listening for changes; listening again when possible (the fingerprint is checked meanwhile)");
            self.wake.notify_one();
        }
    }

    /// A listener on a connection of its own, outside the app's pool: it never takes a
    /// connection the window's reads and writes need, and closing the pool at sign-out never
    /// waits for it. It does not reconnect by itself: a loss ends `receive`, so the loop
    /// listens again and catches up on what it missed.
    async fn listen(&self) -> Result<PgListener, sqlx::Error> {
        let deadline = self.registry.db().deadline();
        let own = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(deadline)
            .connect_lazy_with(self.registry.pool().connect_options().as_ref().clone());
        let mut listener = PgListener::connect_with(&own).await?;
        listener.eager_reconnect(false);
        match tokio::time::timeout(deadline, listener.listen(CHANNEL)).await {
            Ok(listening) => listening.map(|()| listener),
            Err(_) => Err(sqlx::Error::PoolTimedOut),
        }
    }

    /// Receives batches until the connection is lost or the session ends; answers why it ended.
    async fn receive(&self, listener: &mut PgListener) -> String {
        let deadline = self.registry.db().deadline();
        // The server listened on; with a host list the app may move to another (a failover),
        // and an old primary kept up read-only would never announce a change again.
        let switches = self.registry.db().server_switches();
        let mut quiet = Duration::ZERO;
        loop {
            if self.is_stopping() {
                return "the session is ending".into();
            }
            if self.registry.db().server_switches() != switches {
                return "the database server accepting writes changed (a failover)".into();
            }
            let first = match tokio::time::timeout(SWITCH_CHECK, listener.try_recv()).await {
                Ok(Ok(Some(notification))) => {
                    quiet = Duration::ZERO;
                    notification
                }
                Ok(Ok(None)) => return "the connection was lost".into(),
                Ok(Err(e)) => return e.to_string(),
                Err(_) if quiet + SWITCH_CHECK < HEARTBEAT => {
                    quiet += SWITCH_CHECK;
                    continue;
                }
                Err(_) => {
                    quiet = Duration::ZERO;
                    // Quiet for a while: is the connection still there?
                    let ping = sqlx::query("SELECT 1").execute(&mut *listener);
                    match tokio::time::timeout(deadline, ping).await {
                        Ok(Ok(_)) => continue,
                        Ok(Err(e)) => return e.to_string(),
                        Err(_) => return "no answer to a heartbeat".into(),
                    }
                }
            };
            let mut batch: Vec<MachineChange> =
                MachineChange::parse(first.payload()).into_iter().collect();
            let mut overflowed = false;
            // Gathers for a fixed moment from the first change: with 200 PCs each change is
            // read by all of them, so a window that closes on time (not when the channel is
            // quiet, which it never is in a busy plant) turns many reads into one. Past the
            // limit it only counts on, until the channel is quiet (a bulk change of thousands
            // of machines becomes one resync, not one per moment).
            // Each PC's window is of its own length, so 200 PCs do not read back at once.
            let closes = tokio::time::Instant::now() + super::jitter::spread(GATHER);
            loop {
                let wait = if overflowed {
                    QUIET
                } else {
                    closes.saturating_duration_since(tokio::time::Instant::now())
                };
                if wait.is_zero() {
                    break;
                }
                match tokio::time::timeout(wait, listener.try_recv()).await {
                    Err(_) => break,
                    Ok(Ok(Some(notification))) => {
                        if batch.len() < BATCH_LIMIT {
                            batch.extend(MachineChange::parse(notification.payload()));
                        } else {
                            overflowed = true;
                        }
                    }
                    Ok(Ok(None)) => {
                        self.apply_batch(batch, overflowed).await;
                        return "the connection was lost".into();
                    }
                    Ok(Err(e)) => {
                        self.apply_batch(batch, overflowed).await;
                        return e.to_string();
                    }
                }
            }
            self.apply_batch(batch, overflowed).await;
        }
    }

    /// After (re)listening: the offline copy is brought up to date by its fingerprint, and the
    /// window reloads what it shows.
    async fn catch_up(&self) {
        if let Err(e) = self.refresh_fleet_copy().await {
            tracing::warn!(error = %e, "could not refresh the offline copy of the fleet");
        }
        self.tell(&[MachineChange::resync()]);
    }

    /// Brings the offline copy up to date with a batch, then tells the window.
    async fn apply_batch(&self, batch: Vec<MachineChange>, overflowed: bool) {
        if batch.is_empty() {
            return;
        }
        let wholesale =
            |c: &MachineChange| matches!(c.kind, ChangeKind::Truncate | ChangeKind::Resync);
        if overflowed || batch.iter().any(wholesale) {
            self.catch_up().await;
            return;
        }
        let uids: BTreeSet<Uuid> = batch.iter().filter_map(|c| c.uid).collect();
        if let Err(e) = self.follow_in_fleet_copy(&uids).await {
            // The fingerprint is compared at the worker's next round instead.
            tracing::warn!(error = %e, "could not bring the offline copy up to date with live changes");
            self.fleet_check_due.store(true, Ordering::Release);
        }
        self.tell(&batch);
    }

    /// Reads every machine the batch names, whatever the announcement said (anyone may NOTIFY
    /// the channel: the payload only says where to look): those found are put in the copy,
    /// the others (deleted) taken out.
    async fn follow_in_fleet_copy(&self, uids: &BTreeSet<Uuid>) -> Result<(), RegistryError> {
        let wanted: Vec<Uuid> = uids.iter().copied().collect();
        let machines = self.registry.machines_by_uid(&wanted).await?;
        for machine in &machines {
            self.outbox.fleet_put(machine).await?;
        }
        for uid in uids {
            if !machines.iter().any(|m| m.uid == *uid) {
                self.outbox.fleet_remove(*uid).await?;
            }
        }
        Ok(())
    }

    fn tell(&self, changes: &[MachineChange]) {
        self.alert_wake.notify_one();
        let listener = self.live_listener.lock().ok().and_then(|l| l.clone());
        if let Some(listener) = listener {
            listener(changes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_read_and_strangers_ignored() {
        let uid = Uuid::new_v4();
        let change = MachineChange::parse(&format!(
            r#"{{"uid": "{uid}", "version": 3, "kind": "update"}}"#
        ))
        .unwrap();
        assert_eq!(change.kind, ChangeKind::Update);
        assert_eq!((change.uid, change.version), (Some(uid), Some(3)));
        assert_eq!(
            MachineChange::parse(r#"{"kind": "truncate"}"#).map(|c| c.kind),
            Some(ChangeKind::Truncate)
        );
        assert!(MachineChange::parse("hello").is_none());
        assert!(MachineChange::parse(r#"{"kind": "explode"}"#).is_none());
    }
}
