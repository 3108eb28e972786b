use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use super::alert_watch::AlertListener;
use super::hooks::{self, Passage};
use super::live::LiveListener;
use super::{replay, Enqueued, FleetCopy, Outbox, OutboxEntry, QueuedWrite};
use crate::domain::{
    CreateMachine, DeleteMachine, Machine, OperationalStatus, PlanMaintenance, RecordMaintenance,
    RecordShift, SetMachineStatus, UpdateMachine,
};
use crate::error::RegistryError;
use crate::Registry;

const ONLINE_CHECK: Duration = Duration::from_secs(5);
/// The longest wait between checks while offline: the return is noticed within this (plus a
/// check), and a refused connection attempt every few seconds costs a server nothing.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How often the worker forgets applied write ids past their retention.
const PRUNE_EVERY: Duration = Duration::from_secs(24 * 60 * 60);
/// How often, at most, the worker checks whether the offline copy of the fleet is current
/// (right after a replay too).
const FLEET_CHECK: Duration = Duration::from_secs(30);
/// While live updates are heard, the copy follows them; the fingerprint is still compared this
/// often, against anything missed (a batch that could not be read, a spoofed announcement).
const FLEET_CHECK_WHILE_LIVE: Duration = Duration::from_secs(300);

/// What a write became: applied on the server, or queued to be sent when it is back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum WriteOutcome {
    Applied {
        machine: Machine,
    },
    /// Durably in the local outbox; `pending` writes are waiting in all.
    Queued {
        pending: i64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Connection {
    Online,
    Offline,
    Syncing,
}

/// The connection and the outbox as the window shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SyncStatus {
    pub connection: Connection,
    /// Why the database is unreachable, when it is.
    pub reason: Option<String>,
    pub pending: i64,
    pub needs_attention: i64,
    pub last_sync: Option<DateTime<Utc>>,
    /// Set when a background task of the app failed unexpectedly (it was restarted); shown in
    /// the window until the app restarts, with the details in the log.
    pub fault: Option<String>,
}

/// What became of one write, in full: the answer for the window, and what queueing it did to
/// the outbox (for tests and tools that account for every write).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submitted {
    pub outcome: WriteOutcome,
    /// `None` when it was applied online.
    pub enqueued: Option<Enqueued>,
}

/// Called with every change of the status (the app sends it to the window).
pub type StatusListener = Arc<dyn Fn(&SyncStatus) + Send + Sync>;

/// The registry with offline entry: the one thing the app's commands call.
pub struct SyncedRegistry {
    pub(super) registry: Arc<Registry>,
    pub(super) outbox: Arc<Outbox>,
    /// Held while the fleet copy is being refreshed: one refresh at a time, in order.
    pub(super) fleet_refreshing: Arc<tokio::sync::Mutex<()>>,
    /// The fleet copy as last read from disk, with the outbox's generation it was read at.
    pub(super) fleet_memo: Mutex<Option<(u64, Arc<FleetCopy>)>>,
    /// Whether the connection has been observed at all (the status starts as offline only
    /// because nothing is known yet).
    observed: AtomicBool,
    /// Set by [`SyncedRegistry::shutdown`]: the worker ends at its next step and says nothing
    /// more to the window.
    stopping: AtomicBool,
    /// The worker task of [`SyncedRegistry::run_supervised`], to end it should it not stop.
    worker: Mutex<Option<tokio::task::AbortHandle>>,
    pub(super) wake: Notify,
    status: Mutex<SyncStatus>,
    pub(super) alert_listener: Mutex<Option<AlertListener>>,
    pub(super) live_listener: Mutex<Option<LiveListener>>,
    /// Woken by a live batch: the alert watch looks at once instead of at its next round.
    pub(super) alert_wake: Notify,
    /// Set while the live listener listens (then the fingerprint is polled only rarely).
    pub(super) live: AtomicBool,
    /// Set when live changes could not be followed in the offline copy: the fingerprint is
    /// compared at the worker's next round.
    pub(super) fleet_check_due: AtomicBool,
}

impl SyncedRegistry {
    pub fn new(registry: Arc<Registry>, outbox: Outbox) -> Self {
        registry.set_client(outbox.client_id());
        Self {
            registry,
            outbox: Arc::new(outbox),
            fleet_refreshing: Arc::new(tokio::sync::Mutex::new(())),
            fleet_memo: Mutex::new(None),
            observed: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            worker: Mutex::new(None),
            wake: Notify::new(),
            alert_listener: Mutex::new(None),
            live_listener: Mutex::new(None),
            alert_wake: Notify::new(),
            live: AtomicBool::new(false),
            fleet_check_due: AtomicBool::new(false),
            status: Mutex::new(SyncStatus {
                connection: Connection::Offline,
                reason: Some("not connected yet".into()),
                pending: 0,
                needs_attention: 0,
                last_sync: None,
                fault: None,
            }),
        }
    }

    /// Set once the session is ending: helpers of the worker stop too.
    pub(super) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    pub fn status(&self) -> SyncStatus {
        self.status
            .lock()
            .map(|s| s.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    pub async fn create_machine(
        &self,
        write: CreateMachine,
    ) -> Result<WriteOutcome, RegistryError> {
        self.write(QueuedWrite::Create(write)).await
    }

    pub async fn update_machine(
        &self,
        write: UpdateMachine,
    ) -> Result<WriteOutcome, RegistryError> {
        self.write(QueuedWrite::Update(write)).await
    }

    pub async fn set_machine_status(
        &self,
        write: SetMachineStatus,
    ) -> Result<WriteOutcome, RegistryError> {
        self.write(QueuedWrite::SetStatus(write)).await
    }

    pub async fn delete_machine(
        &self,
        write: DeleteMachine,
    ) -> Result<WriteOutcome, RegistryError> {
        self.write(QueuedWrite::Delete(write)).await
    }

    pub async fn plan_maintenance(
        &self,
        write: PlanMaintenance,
    ) -> Result<WriteOutcome, RegistryError> {
        self.write(QueuedWrite::PlanMaintenance(write)).await
    }

    pub async fn record_maintenance(
        &self,
        write: RecordMaintenance,
    ) -> Result<WriteOutcome, RegistryError> {
        self.write(QueuedWrite::RecordMaintenance(write)).await
    }

    /// Enters a shift's production record, online or queued like every other write.
    pub async fn record_shift(&self, write: RecordShift) -> Result<WriteOutcome, RegistryError> {
        self.write(QueuedWrite::RecordShift(write)).await
    }

    pub async fn outbox_entries(&self) -> Result<Vec<OutboxEntry>, RegistryError> {
        let mut entries = self.outbox.needs_attention().await?;
        entries.extend(self.outbox.pending(1000).await?);
        Ok(entries)
    }

    pub async fn discard(&self, seq: i64) -> Result<bool, RegistryError> {
        let discarded = self.outbox.discard(seq).await?;
        self.refresh_counts().await;
        Ok(discarded)
    }

    pub async fn retry(&self, seq: i64, write: QueuedWrite) -> Result<bool, RegistryError> {
        validate(&write)?;
        // It becomes pending again in its old place: not while an online write is under way.
        let order = self.outbox.write_order().await;
        let retried = self.outbox.retry(seq, write).await?;
        drop(order);
        self.refresh_counts().await;
        self.wake.notify_one();
        Ok(retried)
    }

    /// Online when nothing is waiting; otherwise behind the queue, so writes keep their order.
    async fn write(&self, write: QueuedWrite) -> Result<WriteOutcome, RegistryError> {
        self.submit(write).await.map(|submitted| submitted.outcome)
    }

    /// Applies a validated write online, or queues it. The PC's write order is held throughout:
    /// an online write is sent only when nothing is queued or being replayed, and a write queued
    /// meanwhile lands behind it. A write whose online attempt got no answer (the deadline
    /// passed, the connection broke) may be recorded on the server: it is queued as already
    /// sent, so nothing is ever folded into it, and replay recognises it if it did land.
    pub async fn submit(&self, write: QueuedWrite) -> Result<Submitted, RegistryError> {
        validate(&write)?;
        let order = self.outbox.write_order().await;
        let enqueued = if !self.known_offline() && self.outbox.pending_count().await? == 0 {
            match self.apply_online(&write).await {
                Ok(machine) => {
                    drop(order);
                    self.set_online();
                    self.keep_in_fleet_copy(&machine, matches!(write, QueuedWrite::Delete(_)));
                    return Ok(Submitted {
                        outcome: WriteOutcome::Applied { machine },
                        enqueued: None,
                    });
                }
                Err(e) if e.is_transient() => {
                    if let RegistryError::Unavailable(reason) = &e {
                        self.set_offline(reason.clone());
                    }
                    tracing::info!(error = %e, write_id = %write.write_id(), "online write got no answer; queued as possibly applied");
                    self.outbox.enqueue_sent(write).await?;
                    Enqueued::Appended
                }
                Err(other) => return Err(other),
            }
        } else {
            self.outbox.enqueue(write).await?
        };
        drop(order);
        let pending = self.outbox.pending_count().await?;
        self.update(|s| s.pending = pending);
        self.wake.notify_one();
        Ok(Submitted {
            outcome: WriteOutcome::Queued { pending },
            enqueued: Some(enqueued),
        })
    }

    async fn apply_online(&self, write: &QueuedWrite) -> Result<Machine, RegistryError> {
        let applied = match write {
            QueuedWrite::Create(w) => self.registry.create_machine(w).await,
            QueuedWrite::Update(w) => self.registry.update_machine(w).await,
            QueuedWrite::SetStatus(w) => self.registry.set_machine_status(w).await,
            QueuedWrite::Delete(w) => self.registry.delete_machine(w).await,
            QueuedWrite::PlanMaintenance(w) => self.registry.plan_maintenance(w).await,
            QueuedWrite::RecordMaintenance(w) => self.registry.record_maintenance(w).await,
            QueuedWrite::RecordShift(w) => self.registry.record_shift(w).await,
        };
        if applied.is_ok()
            && self.outbox.hooks.at(hooks::ONLINE_COMMITTED).await == Passage::LoseAnswer
        {
            return Err(RegistryError::Unavailable(
                "the connection broke before the answer arrived".into(),
            ));
        }
        applied
    }

    /// Runs [`SyncedRegistry::run`] and restarts it should it ever panic: the panic is logged,
    /// the status carries it to the window, and syncing goes on a second later.
    pub async fn run_supervised(self: Arc<Self>, on_change: StatusListener) {
        loop {
            let listener = on_change.clone();
            let worker = tokio::spawn(self.clone().run(move |s| listener(s)));
            if let Ok(mut handle) = self.worker.lock() {
                *handle = Some(worker.abort_handle());
            }
            match worker.await {
                Ok(()) => return,
                Err(e) if e.is_panic() => {
                    let at = Utc::now().format("%H:%M:%S UTC");
                    tracing::error!(error = %e, "the sync worker panicked; restarting it");
                    self.update(|s| {
                        s.fault = Some(format!(
                            "The sync worker stopped unexpectedly at {at} and was restarted (details in the log)."
                        ))
                    });
                    on_change(&self.status());
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(_) => return,
            }
        }
    }

    /// Keeps the status current and the outbox flowing: replays whenever writes wait (woken at
    /// once by a new one), checks the database every few seconds while online and with backoff
    /// (1 s doubling to 5 s) while not. Calls `on_change` whenever the status changes. Once a
    /// day while online, forgets applied write ids past their retention.
    pub async fn run(self: Arc<Self>, on_change: impl Fn(&SyncStatus) + Send + Sync + 'static) {
        let mut backoff = Duration::from_secs(1);
        let mut last_prune: Option<Instant> = None;
        let mut last_fleet_check: Option<Instant> = None;
        let mut last_seen: Option<SyncStatus> = None;
        // The alert watch runs beside the worker, so a slow look never delays a replay; it
        // ends with the worker.
        let _alerts = AbortOnDrop(tokio::spawn(self.clone().alert_loop()).abort_handle());
        let _live = AbortOnDrop(tokio::spawn(self.clone().live_loop()).abort_handle());
        let stopping = self.clone();
        let mut emit = |status: SyncStatus| {
            if stopping.stopping.load(Ordering::Acquire) {
                return;
            }
            if last_seen.as_ref() != Some(&status) {
                on_change(&status);
                last_seen = Some(status);
            }
        };
        loop {
            if self.stopping.load(Ordering::Acquire) {
                return;
            }
            self.refresh_counts().await;
            // While offline, a cheap check first: "syncing" is shown only when it can happen.
            let reachable =
                self.status().connection != Connection::Offline || self.check_connection().await;
            if self.outbox.hooks.at(hooks::WORKER_TICK).await == Passage::Panic {
                panic!("a test hook made the sync worker panic");
            }
            let mut replayed = false;
            if reachable && self.status().pending > 0 {
                self.update(|s| s.connection = Connection::Syncing);
                emit(self.status());
                let replay = replay(&self.registry, &self.outbox).await;
                replayed = replay.as_ref().is_ok_and(|report| report.applied > 0);
                match replay {
                    Ok(report) => match report.interrupted {
                        Some(reason) => self.set_offline(reason),
                        None => {
                            self.set_online();
                            self.update(|s| s.last_sync = Some(Utc::now()));
                        }
                    },
                    Err(e) => {
                        tracing::error!(error = %e, "replay failed");
                        self.set_offline("the local outbox failed (see the log)".into());
                    }
                }
                self.refresh_counts().await;
            } else if reachable {
                self.check_connection().await;
            }
            let status = self.status();
            emit(status.clone());
            // While the live listener listens, the copy follows each change as it is announced
            // and the fingerprint is compared only rarely; after a replay, after live changes
            // that could not be followed, and every 30 s while nobody listens, it is compared.
            let fleet_check_every = if self.live() {
                FLEET_CHECK_WHILE_LIVE
            } else {
                FLEET_CHECK
            };
            if status.connection == Connection::Online
                && (replayed
                    || self.fleet_check_due.swap(false, Ordering::AcqRel)
                    || last_fleet_check.is_none_or(|at: Instant| at.elapsed() >= fleet_check_every))
            {
                last_fleet_check = Some(Instant::now());
                if let Err(e) = self.refresh_fleet_copy().await {
                    tracing::warn!(error = %e, "could not refresh the offline copy of the fleet");
                }
            }
            if status.connection == Connection::Online
                && last_prune.is_none_or(|at: Instant| at.elapsed() >= PRUNE_EVERY)
            {
                last_prune = Some(Instant::now());
                match self.registry.prune_applied_writes().await {
                    Ok(0) => {}
                    Ok(pruned) => tracing::info!(pruned, "forgot old applied write ids"),
                    Err(e) => tracing::warn!(error = %e, "pruning applied write ids failed"),
                }
            }
            let wait = if status.connection == Connection::Online {
                backoff = Duration::from_secs(1);
                ONLINE_CHECK
            } else {
                let wait = backoff;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                wait
            };
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Ends this session (sign-out, another user signing in): the worker stops at its next step
    /// (a replay in flight finishes its batch first: the caller waits up to `patience`), then
    /// the outbox's files and lock and the database connections are released. Writes still
    /// queued stay in the outbox for this user's next session.
    pub async fn shutdown(&self, worker: Option<tokio::task::JoinHandle<()>>, patience: Duration) {
        self.stopping.store(true, Ordering::Release);
        self.wake.notify_one();
        if let Some(mut worker) = worker {
            if tokio::time::timeout(patience, &mut worker).await.is_err() {
                // A batch in flight is dropped; its writes stay marked as sent in the outbox
                // and are recognised by their write ids when sent again.
                tracing::warn!("the sync worker did not stop in time; ending it");
                if let Some(inner) = self.worker.lock().ok().and_then(|mut h| h.take()) {
                    inner.abort();
                }
                worker.abort();
                let _ = worker.await;
            }
        }
        self.outbox.shutdown().await;
        self.registry.pool().close().await;
    }

    /// Asks the database if it is there, and records the answer. True when online. While
    /// offline, one quick connection attempt first: most checks then end at once.
    pub async fn check_connection(&self) -> bool {
        if self.status().connection == Connection::Offline {
            if let Err(reason) = self.registry.probe().await {
                self.set_offline(reason);
                return false;
            }
        }
        match self.registry.health().await {
            crate::registry::DatabaseHealth::Online { .. } => {
                self.set_online();
                true
            }
            crate::registry::DatabaseHealth::Unavailable { reason, .. }
            | crate::registry::DatabaseHealth::SignInRequired { reason, .. } => {
                self.set_offline(reason);
                false
            }
            crate::registry::DatabaseHealth::NeedsAttention { .. } => {
                self.set_offline("the database needs attention".into());
                false
            }
        }
    }

    async fn refresh_counts(&self) {
        let pending = self.outbox.pending_count().await;
        let attention = self.outbox.needs_attention().await.map(|e| e.len() as i64);
        if let (Ok(pending), Ok(attention)) = (pending, attention) {
            self.update(|s| {
                s.pending = pending;
                s.needs_attention = attention;
            });
        }
    }

    /// The database is known to be away: reads answer from the offline copy and writes queue
    /// at once, instead of each waiting for a connection attempt to fail. The worker notices
    /// its return within its backoff.
    pub(super) fn known_offline(&self) -> bool {
        self.observed.load(Ordering::Acquire) && self.status().connection == Connection::Offline
    }

    fn set_online(&self) {
        self.observed.store(true, Ordering::Release);
        self.update(|s| {
            s.connection = Connection::Online;
            s.reason = None;
        });
    }

    /// A read found the database away: reads answer offline from now on, and the worker is
    /// woken to watch for its return.
    pub(super) fn went_offline(&self, reason: String) {
        self.set_offline(reason);
        self.wake.notify_one();
    }

    fn set_offline(&self, reason: String) {
        self.observed.store(true, Ordering::Release);
        self.update(|s| {
            s.connection = Connection::Offline;
            s.reason = Some(reason);
        });
    }

    fn update(&self, change: impl FnOnce(&mut SyncStatus)) {
        if let Ok(mut status) = self.status.lock() {
            change(&mut status);
        }
    }
}

/// Aborts a task when dropped: the worker's helpers end with it, however it ends.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn validate(write: &QueuedWrite) -> Result<(), RegistryError> {
    match write {
        QueuedWrite::Create(w) => w.machine.validate(Utc::now()).map(drop),
        QueuedWrite::Update(w) => w.machine.validate(Utc::now()).map(drop),
        QueuedWrite::SetStatus(w) => OperationalStatus::parse(&w.status)
            .map(drop)
            .map_err(|m| vec![crate::FieldError::new("status", m)]),
        QueuedWrite::Delete(_) => Ok(()),
        QueuedWrite::PlanMaintenance(w) => w.validate().map(drop),
        QueuedWrite::RecordMaintenance(w) => w.validate(Utc::now()).map(drop),
        QueuedWrite::RecordShift(w) => w.validate(Utc::now()).map(drop),
    }
    .map_err(RegistryError::Validation)
}
