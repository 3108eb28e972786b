//! The connection to PostgreSQL: a small pool, a deadline on every call, one retry on a fresh
//! connection after a server restart, and a short fail-fast window after a failure. Every
//! database call of the registry goes through here; the SQL itself lives in `repo`.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Connection, PgConnection, Postgres};

use crate::config::DatabaseConfig;
use crate::error::{from_sqlx, may_have_failed_over, RegistryError};
use crate::failover::{self, Failover};

/// Connections per PC: a page and its total run side by side, the sync worker uses one. A plant
/// with 200 PCs then holds at most 600 server connections, most of them closed when idle, plus
/// one listening connection per PC for live updates (outside this pool, see `sync` live).
pub const MAX_CONNECTIONS: u32 = 3;

/// An idle connection is closed after this: a quiet PC holds no server connection for long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// After a connection failure, further calls within this window fail at once with the same
/// reason instead of each waiting out the deadline in turn (the window asks for a page, the
/// counts, the types and the health at once). Short, so recovery is noticed within a second.
const FAIL_FAST_WINDOW: Duration = Duration::from_secs(1);

/// How often a busy answer (deadlock, serialization failure, lock wait) is tried again at once,
/// with a short pause, before the caller is told.
const BUSY_RETRIES: u32 = 3;

/// How a deadline's error begins: told apart from a refused connection, it is not retried.
pub(crate) const NO_ANSWER: &str = "no answer from the database within";

/// The error of a call that got no answer within `deadline`.
pub(crate) fn no_answer(deadline: Duration) -> RegistryError {
    RegistryError::Unavailable(format!("{NO_ANSWER} {} s", deadline.as_secs_f32()))
}

/// `work` within `deadline`, or the database counts as unavailable.
pub(crate) async fn within<T>(
    deadline: Duration,
    work: impl Future<Output = Result<T, RegistryError>>,
) -> Result<T, RegistryError> {
    tokio::time::timeout(deadline, work)
        .await
        .unwrap_or_else(|_| Err(no_answer(deadline)))
}

/// A database operation on one connection, as the closures passed to [`Db::run`] return it.
pub type DbFuture<'c, T> = Pin<Box<dyn Future<Output = Result<T, RegistryError>> + Send + 'c>>;

pub struct Db {
    pool: PgPool,
    deadline: Duration,
    last_unavailable: Mutex<Option<(Instant, String)>>,
    /// With a host list: follows the server that accepts writes.
    failover: Option<Arc<Failover>>,
    /// Behind PgBouncer: the per-connection settings, made after connecting.
    settings: Option<Arc<SessionSettings>>,
}

/// Settings a new connection makes with one query (`set_config`), when they cannot be sent at
/// connection start.
pub(crate) struct SessionSettings(Vec<(&'static str, String)>);

impl SessionSettings {
    pub(crate) async fn make(&self, connection: &mut PgConnection) -> Result<(), sqlx::Error> {
        let mut sql = sqlx::QueryBuilder::new("SELECT ");
        let mut calls = sql.separated(", ");
        for (name, value) in &self.0 {
            calls.push("set_config(");
            calls.push_bind_unseparated(*name);
            calls.push_unseparated(", ");
            calls.push_bind_unseparated(value.clone());
            calls.push_unseparated(", false)");
        }
        // Not prepared: nothing named is left on a server connection PgBouncer may pass on.
        sql.build()
            .persistent(false)
            .execute(connection)
            .await
            .map(drop)
    }
}

/// How one direct connection attempt went.
pub(crate) enum DirectAttempt {
    /// The server answered (it may still have refused the login).
    Answered,
    /// The server cannot be reached, and why.
    Away(String),
    /// Nothing within the deadline.
    NoAnswer,
}

impl Db {
    /// Builds the pool without connecting: the app starts (and shows its window) even when the
    /// database is away, and connects when it comes back.
    pub fn connect_lazy(config: &DatabaseConfig) -> Self {
        let options = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .min_connections(0)
            .idle_timeout(IDLE_TIMEOUT)
            .acquire_timeout(config.deadline())
            // No ping before each use: it would double every round trip. A connection that died
            // meanwhile fails its query instead, and `run` tries once more on a fresh one.
            .test_before_acquire(false);
        let settings = config
            .settings_to_set()
            .map(|s| Arc::new(SessionSettings(s)));
        if config.hosts().len() > 1 {
            let failover = Failover::pool(
                options,
                config.hosts().to_vec(),
                config.deadline(),
                settings.clone(),
            );
            // Which server accepts writes, found before the first call needs it.
            failover.search();
            let mut db = Self::from_pool(failover.connection_pool().clone(), config.deadline());
            db.failover = Some(failover);
            db.settings = settings;
            return db;
        }
        let options = match &settings {
            Some(settings) => {
                let settings = settings.clone();
                options.after_connect(move |connection, _| {
                    let settings = settings.clone();
                    Box::pin(async move { settings.make(connection).await })
                })
            }
            None => options,
        };
        let mut db = Self::from_pool(
            options.connect_lazy_with(config.options().clone()),
            config.deadline(),
        );
        db.settings = settings;
        db
    }

    pub fn from_pool(pool: PgPool, deadline: Duration) -> Self {
        Self {
            pool,
            deadline,
            last_unavailable: Mutex::new(None),
            failover: None,
            settings: None,
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// The error a call past its deadline gets.
    pub fn too_slow(&self) -> RegistryError {
        no_answer(self.deadline)
    }

    /// Runs `operation` on a pooled connection within the deadline. A connection found dead (a
    /// server restart leaves the pool holding them) is replaced and the operation tried again,
    /// while time is left; a busy answer is tried again after a short pause. Safe for writes:
    /// each carries a `write_id`, so a write whose commit did land before the answer was lost is
    /// recognised. A connection whose call ran out of time is closed, never reused.
    pub async fn run<T, F>(&self, operation: F) -> Result<T, RegistryError>
    where
        F: for<'c> Fn(&'c mut PgConnection) -> DbFuture<'c, T>,
    {
        self.fail_fast()?;
        let started = Instant::now();
        let mut dead_connections = 0;
        let mut busy = 0;
        loop {
            let mut connection = self.acquire().await?;
            let left = self.deadline.saturating_sub(started.elapsed());
            let result = match tokio::time::timeout(left, operation(&mut connection)).await {
                Ok(result) => result,
                Err(_) => {
                    connection.close_on_drop();
                    Err(self.too_slow())
                }
            };
            match result {
                Err(RegistryError::Unavailable(reason))
                    if dead_connections < MAX_CONNECTIONS
                        && started.elapsed() < self.deadline
                        && !reason.starts_with(NO_ANSWER) =>
                {
                    connection.close_on_drop();
                    dead_connections += 1;
                    self.look_for_writable_server(&reason);
                    tracing::debug!(%reason, "connection failed; trying another");
                }
                Err(RegistryError::Busy(reason)) if busy < BUSY_RETRIES => {
                    busy += 1;
                    tracing::info!(%reason, attempt = busy, "database busy; trying again");
                    tokio::time::sleep(Duration::from_millis(20 << busy)).await;
                }
                other => return self.note(other),
            }
        }
    }

    /// For work the user waits for on purpose (an import, an export): `operation` in one
    /// transaction on a connection of its own, whose statements may run up to `limit` rather
    /// than the deadline. It commits when `commit(&answer)` says so and rolls back otherwise.
    /// Past `limit` the connection is closed (the transaction with it) and the answer is "no
    /// answer": whether a commit landed must then be asked separately. Never retried.
    pub async fn long_transaction<T, F, C>(
        &self,
        limit: Duration,
        operation: F,
        commit: C,
    ) -> Result<T, RegistryError>
    where
        F: for<'c> FnOnce(&'c mut PgConnection) -> DbFuture<'c, T>,
        C: FnOnce(&T) -> bool,
    {
        let mut connection = self.acquire().await?;
        let work = async {
            let mut tx = sqlx::Connection::begin(&mut *connection)
                .await
                .map_err(from_sqlx)?;
            sqlx::query("SELECT set_config('statement_timeout', $1, true)")
                .bind(format!("{}ms", limit.as_millis()))
                .execute(&mut *tx)
                .await
                .map_err(from_sqlx)?;
            let answer = operation(&mut tx).await?;
            if commit(&answer) {
                tx.commit().await.map_err(from_sqlx)?;
            } else {
                tx.rollback().await.map_err(from_sqlx)?;
            }
            Ok(answer)
        };
        match tokio::time::timeout(limit + Duration::from_secs(1), work).await {
            Ok(answer) => answer,
            Err(_) => {
                connection.close_on_drop();
                Err(no_answer(limit))
            }
        }
    }

    /// A pooled connection within the deadline; the failure is remembered for the fail-fast
    /// window.
    pub async fn acquire(&self) -> Result<PoolConnection<Postgres>, RegistryError> {
        self.fail_fast()?;
        let acquired = self.pool.acquire().await.map_err(|e| match e {
            // No connection within the deadline: the same answer as a call that got none.
            sqlx::Error::PoolTimedOut => self.too_slow(),
            other => from_sqlx(other),
        });
        self.note(acquired)
    }

    /// Returns the recent connection failure, if there was one within the fail-fast window.
    pub fn fail_fast(&self) -> Result<(), RegistryError> {
        let recent = self
            .last_unavailable
            .lock()
            .map_or(None, |last| last.clone());
        match recent {
            Some((at, reason)) if at.elapsed() < FAIL_FAST_WINDOW => {
                Err(RegistryError::Unavailable(reason))
            }
            _ => Ok(()),
        }
    }

    /// Remembers a connection failure (for the fail-fast window) or forgets it on success.
    pub fn note<T>(&self, result: Result<T, RegistryError>) -> Result<T, RegistryError> {
        if let Ok(mut last) = self.last_unavailable.lock() {
            match &result {
                Err(RegistryError::Unavailable(reason)) => {
                    self.look_for_writable_server(reason);
                    *last = Some((Instant::now(), reason.clone()));
                }
                Ok(_) => *last = None,
                Err(_) => {}
            }
        }
        result
    }

    /// With a host list, a call that found the database unavailable (the primary gone, a
    /// standby answering, no answer) starts a search for the server that accepts writes. A
    /// server that answered and refused for its own reason (a sign-in, too many connections, a
    /// slow statement) does not: libpq does not try the next host for a refused sign-in either.
    fn look_for_writable_server(&self, reason: &str) {
        if let Some(failover) = &self.failover {
            if may_have_failed_over(reason) {
                failover.search();
            }
        }
    }

    /// How many times a host list's pool moved to another server (0 without a list).
    pub fn server_switches(&self) -> u64 {
        self.failover.as_ref().map_or(0, |f| f.switches())
    }

    /// A connection of its own, outside the pool, within the deadline: for work whose session
    /// state must end with it (the migrations' session lock) and for quick probes.
    pub async fn connect_direct(&self) -> Result<PgConnection, RegistryError> {
        let started = Instant::now();
        let switches = self.server_switches();
        let connected = self.connect_direct_once(self.deadline).await;
        let Some(failover) = &self.failover else {
            return connected;
        };
        match connected {
            Err(RegistryError::Unavailable(reason)) if may_have_failed_over(&reason) => {
                // Another server of the list may be the primary: look now, and try it once.
                let left = self.deadline.saturating_sub(started.elapsed());
                if tokio::time::timeout(left, failover.search_now())
                    .await
                    .is_ok()
                    && failover.switches() != switches
                {
                    let left = self.deadline.saturating_sub(started.elapsed());
                    return self.connect_direct_once(left).await;
                }
                Err(RegistryError::Unavailable(reason))
            }
            other => other,
        }
    }

    async fn connect_direct_once(&self, limit: Duration) -> Result<PgConnection, RegistryError> {
        let options = self.pool.connect_options();
        let connecting = async {
            let mut connection = PgConnection::connect_with(&options)
                .await
                .map_err(from_sqlx)?;
            if let Some(settings) = &self.settings {
                settings.make(&mut connection).await.map_err(from_sqlx)?;
            }
            if self.failover.is_some() {
                // As the pool's connections: a standby is not the server to work with.
                if !failover::accepts_writes(&mut connection)
                    .await
                    .map_err(from_sqlx)?
                {
                    let _ = connection.close().await;
                    return Err(RegistryError::Unavailable(failover::READ_ONLY.into()));
                }
            }
            Ok(connection)
        };
        match tokio::time::timeout(limit, connecting).await {
            Err(_) => Err(self.too_slow()),
            Ok(result) => result,
        }
    }

    /// Connects once, directly, without the pool's retries.
    pub(crate) async fn connect_once(&self) -> DirectAttempt {
        match self.connect_direct().await {
            Ok(connection) => {
                let _ = tokio::time::timeout(self.deadline, connection.close()).await;
                DirectAttempt::Answered
            }
            Err(RegistryError::Unavailable(reason)) if reason.starts_with(NO_ANSWER) => {
                DirectAttempt::NoAnswer
            }
            Err(RegistryError::Unavailable(reason)) => DirectAttempt::Away(reason),
            Err(_) => DirectAttempt::Answered,
        }
    }
}
