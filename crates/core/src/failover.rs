//! Which server of a host list to write to, as libpq's `target_session_attrs=read-write` picks
//! it (sqlx connects to one host only). After a failover the old primary is gone or a standby,
//! and the promoted standby accepts writes: the pool must follow it.
//!
//! The pool connects to the current host. A new connection that finds the server read-only is
//! refused (and a search started); any call that finds the database unavailable starts a search
//! too. The search asks every host at once whether it accepts writes and takes the first that
//! does, in the list's order. The pool then connects there (sqlx re-reads its options on each
//! attempt, so a call already waiting for a connection follows), and connections made before
//! the switch are dropped instead of handed out. Writes carry their `write_id`, so one whose
//! commit landed on the old primary just before it went is recognised when replayed.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnectionMetadata;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, PgConnection, Row};

use crate::db::SessionSettings;

/// Why a server of the list is not used (the same words as the server's own refusal, 25006).
pub(crate) const READ_ONLY: &str =
    "the database server only accepts reading now (a standby, perhaps after a failover)";

/// Searches start at most this often: a burst of failing calls makes one search.
const SEARCH_SPACING: Duration = Duration::from_millis(200);

pub(crate) struct Failover {
    hosts: Vec<PgConnectOptions>,
    /// The host the pool connects to, as an index into `hosts`.
    current: AtomicUsize,
    /// When the pool last moved to another host: connections older than this are dropped.
    switched_at: Mutex<Option<Instant>>,
    /// How many times it moved (the live listener listens again when this changes).
    switches: AtomicU64,
    /// Held while a search runs: one at a time (released even if the search is cancelled).
    searching: Arc<tokio::sync::Mutex<()>>,
    last_search: Mutex<Option<Instant>>,
    deadline: Duration,
    pool: PgPool,
}

impl Failover {
    /// A pool over `hosts` (two or more) that follows the writable one.
    /// `settings`: made on each new connection first (behind PgBouncer).
    pub(crate) fn pool(
        options: PgPoolOptions,
        hosts: Vec<PgConnectOptions>,
        deadline: Duration,
        settings: Option<Arc<SessionSettings>>,
    ) -> Arc<Self> {
        Arc::new_cyclic(|me: &Weak<Failover>| {
            let on_connect = me.clone();
            let on_acquire = me.clone();
            let first = hosts[0].clone();
            let pool = options
                .after_connect(move |connection, _| {
                    let failover = on_connect.clone();
                    let settings = settings.clone();
                    Box::pin(async move {
                        if let Some(settings) = settings {
                            settings.make(connection).await?;
                        }
                        if accepts_writes(connection).await? {
                            return Ok(());
                        }
                        if let Some(failover) = failover.upgrade() {
                            failover.search();
                        }
                        Err(sqlx::Error::Protocol(READ_ONLY.into()))
                    })
                })
                .before_acquire(move |_, meta: PoolConnectionMetadata| {
                    let keep = on_acquire
                        .upgrade()
                        .is_none_or(|failover| failover.made_since_switch(meta.age));
                    Box::pin(async move { Ok(keep) })
                })
                .connect_lazy_with(first);
            Failover {
                hosts,
                current: AtomicUsize::new(0),
                switched_at: Mutex::new(None),
                switches: AtomicU64::new(0),
                searching: Arc::new(tokio::sync::Mutex::new(())),
                last_search: Mutex::new(None),
                deadline,
                pool,
            }
        })
    }

    pub(crate) fn connection_pool(&self) -> &PgPool {
        &self.pool
    }

    /// Whether a connection of this age was made after the last switch (else it reaches the
    /// host the pool left).
    fn made_since_switch(&self, age: Duration) -> bool {
        match self.switched_at.lock().map(|at| *at) {
            Ok(Some(at)) => age < at.elapsed(),
            _ => true,
        }
    }

    /// How many times the pool moved to another host.
    pub(crate) fn switches(&self) -> u64 {
        self.switches.load(Ordering::Acquire)
    }

    /// Starts a search for the writable host unless one is running or has just run. Needs a
    /// Tokio runtime; without one (a config checked outside any) it does nothing.
    pub(crate) fn search(self: &Arc<Self>) {
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        let Ok(guard) = self.searching.clone().try_lock_owned() else {
            return;
        };
        let recent = self
            .last_search
            .lock()
            .is_ok_and(|last| last.is_some_and(|at| at.elapsed() < SEARCH_SPACING));
        if recent {
            return;
        }
        let failover = self.clone();
        tokio::spawn(async move {
            let _searching = guard;
            failover.find_writable().await;
        });
    }

    /// Searches now and waits for the answer (or for the search already running): for a
    /// caller that cannot go on without the writable host (a direct connection, the first call).
    pub(crate) async fn search_now(&self) {
        let _searching = self.searching.lock().await;
        self.find_writable().await;
    }

    /// Asks every host at once; moves the pool to the first (in list order) accepting writes.
    async fn find_writable(&self) {
        let mut asks = tokio::task::JoinSet::new();
        for (index, host) in self.hosts.iter().cloned().enumerate() {
            let deadline = self.deadline;
            asks.spawn(async move {
                let ask = async {
                    let mut connection = PgConnection::connect_with(&host).await?;
                    let writable = accepts_writes(&mut connection).await;
                    let _ = connection.close().await;
                    writable
                };
                let writable = matches!(tokio::time::timeout(deadline, ask).await, Ok(Ok(true)));
                (index, writable)
            });
        }
        let mut writable_hosts = Vec::new();
        while let Some(answer) = asks.join_next().await {
            if let Ok((index, true)) = answer {
                writable_hosts.push(index);
            }
        }
        if let Ok(mut last) = self.last_search.lock() {
            *last = Some(Instant::now());
        }
        writable_hosts.sort_unstable();
        let current = self.current.load(Ordering::Acquire);
        if writable_hosts.len() > 1 {
            // Two primaries (an old one restarted without being made a standby): the one in use
            // keeps the writes; moving back to the other would write to a history that is
            // thrown away when it is rewound.
            tracing::error!(
                servers = %writable_hosts.iter().map(|&i| describe(&self.hosts[i])).collect::<Vec<_>>().join(", "),
                "more than one database server accepts writes (split brain): staying where the writes go"
            );
        }
        // The server in use stays while it accepts writes; else the first in the list that does.
        let writable = if writable_hosts.contains(&current) {
            return;
        } else if let Some(&first) = writable_hosts.first() {
            first
        } else {
            tracing::info!(
                hosts = self.hosts.len(),
                "no database server of the list accepts writes now"
            );
            return;
        };
        self.pool.set_connect_options(self.hosts[writable].clone());
        self.current.store(writable, Ordering::Release);
        if let Ok(mut at) = self.switched_at.lock() {
            *at = Some(Instant::now());
        }
        self.switches.fetch_add(1, Ordering::AcqRel);
        tracing::warn!(
            from = %describe(&self.hosts[current]),
            to = %describe(&self.hosts[writable]),
            "the database server accepting writes changed (a failover): connecting there"
        );
    }
}

/// Whether the session may write (libpq's read-write test: `transaction_read_only` is off).
pub(crate) async fn accepts_writes(connection: &mut PgConnection) -> Result<bool, sqlx::Error> {
    let row = sqlx::query("SHOW transaction_read_only")
        .fetch_one(connection)
        .await?;
    Ok(row.try_get::<String, _>(0)? == "off")
}

fn describe(host: &PgConnectOptions) -> String {
    match host.get_socket() {
        Some(socket) => socket.display().to_string(),
        None => format!("{}:{}", host.get_host(), host.get_port()),
    }
}
