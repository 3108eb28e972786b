use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde::{Deserialize, Serialize};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Connection, PgConnection, Postgres};
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::config::{DatabaseConfig, DatabaseTarget};
use crate::domain::{
    CreateMachine, DeleteMachine, ListQuery, Machine, MachinePage, OperationalStatus,
    SetMachineStatus, StatusCount, UpdateMachine,
};
use crate::error::{from_sqlx, RegistryError};
use crate::{repo, MIGRATOR};

/// A desktop app needs few: the page and its total run side by side, writes one at a time.
const MAX_CONNECTIONS: u32 = 8;

/// How long to wait for a connection before telling the operator the database is away.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// After a connection failure, further calls within this window fail at once with the same
/// reason instead of each waiting out `ACQUIRE_TIMEOUT` in turn (the window asks for a page, the
/// counts, the types and the health at once). Short, so recovery is noticed within a second.
const FAIL_FAST_WINDOW: Duration = Duration::from_secs(1);

/// How long an applied write id is remembered. A write is only ever sent again by a client
/// that crashed between the server's commit and removing it from its outbox, and it resends on
/// its next connection; 180 days covers any plausible outage. Even past that, a create would
/// meet its own name and machine id, and an edit or delete its moved-on version (all shown as
/// needing attention), so only a status change could be applied a second time.
pub const APPLIED_WRITES_RETENTION: chrono::TimeDelta = chrono::TimeDelta::days(180);

/// The machine registry: a lazily connecting pool, the schema migrated once, and the operations
/// the app offers. Every operation validates its input first, so bad input is refused (and
/// nothing changes) even while the database is unreachable.
pub struct Registry {
    pool: PgPool,
    target: DatabaseTarget,
    schema: OnceCell<()>,
    last_unavailable: Mutex<Option<(Instant, String)>>,
}

/// What the app can say about its database right now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DatabaseHealth {
    Online {
        target: DatabaseTarget,
    },
    Unavailable {
        target: DatabaseTarget,
        reason: String,
    },
    NeedsAttention {
        target: DatabaseTarget,
        report: String,
    },
}

impl Registry {
    /// Builds the pool without connecting: the app starts (and shows its window) even when the
    /// database is away, and connects when it comes back.
    pub fn connect_lazy(config: &DatabaseConfig) -> Self {
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .min_connections(0)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // No ping before each use: it would double every round trip. A connection that died
            // meanwhile fails its query instead, and `with_retry` tries once more on a fresh one.
            .test_before_acquire(false)
            .connect_lazy_with(config.options().clone());
        Self {
            pool,
            target: config.target().clone(),
            schema: OnceCell::new(),
            last_unavailable: Mutex::new(None),
        }
    }

    /// Wraps an existing pool whose schema is already migrated (tests, benchmarks).
    pub fn from_pool(pool: PgPool, target: DatabaseTarget) -> Self {
        Self {
            pool,
            target,
            schema: OnceCell::new(),
            last_unavailable: Mutex::new(None),
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn target(&self) -> &DatabaseTarget {
        &self.target
    }

    /// Runs the migrations once per process; later calls return at once. A failure is not
    /// remembered beyond the fail-fast window, so a later operation tries again (the database
    /// may have come back).
    #[tracing::instrument(skip(self), err)]
    pub async fn ensure_schema(&self) -> Result<(), RegistryError> {
        if self.schema.initialized() {
            return Ok(());
        }
        self.fail_fast()?;
        let result = self
            .schema
            .get_or_try_init(|| async {
                self.fail_fast()?;
                MIGRATOR.run(&self.pool).await.map_err(migrate_error)?;
                tracing::info!(target = %self.target, "database schema is up to date");
                Ok(())
            })
            .await
            .copied();
        self.note(result)
    }

    /// Returns the recent connection failure, if there was one within the fail-fast window.
    fn fail_fast(&self) -> Result<(), RegistryError> {
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
    fn note<T>(&self, result: Result<T, RegistryError>) -> Result<T, RegistryError> {
        if let Ok(mut last) = self.last_unavailable.lock() {
            match &result {
                Err(RegistryError::Unavailable(reason)) => {
                    *last = Some((Instant::now(), reason.clone()));
                }
                Ok(_) => *last = None,
                Err(_) => {}
            }
        }
        result
    }

    /// Connects once, directly, without the pool's retries.
    async fn connect_once(&self) -> DirectAttempt {
        let options = self.pool.connect_options();
        match tokio::time::timeout(ACQUIRE_TIMEOUT, PgConnection::connect_with(&options)).await {
            Err(_) => DirectAttempt::NoAnswer,
            Ok(Ok(connection)) => {
                let _ = connection.close().await;
                DirectAttempt::Answered
            }
            Ok(Err(e)) => match from_sqlx(e) {
                RegistryError::Unavailable(reason) => DirectAttempt::Away(reason),
                _ => DirectAttempt::Answered,
            },
        }
    }

    /// Learns why the pool cannot connect: the pool only reports that it timed out, while the
    /// operator needs "connection refused" or "wrong password".
    async fn diagnose(&self) -> Option<String> {
        match self.connect_once().await {
            DirectAttempt::Away(reason) => Some(reason),
            DirectAttempt::Answered | DirectAttempt::NoAnswer => None,
        }
    }

    /// Says quickly whether the server is still away (refused, closed, unknown host), which is
    /// what a check while offline mostly hears. `Err` holds the reason; a server that answers,
    /// even to refuse the login, is `Ok` (the full health check then says what is wrong).
    pub async fn probe(&self) -> Result<(), String> {
        match self.connect_once().await {
            DirectAttempt::Away(reason) => Err(reason),
            DirectAttempt::NoAnswer => Err(format!(
                "no answer from the database server within {} s",
                ACQUIRE_TIMEOUT.as_secs()
            )),
            // Back: the next calls must try it, not fail fast on the last failure.
            DirectAttempt::Answered => self.note(Ok(())).map_err(|e| e.to_string()),
        }
    }

    pub async fn health(&self) -> DatabaseHealth {
        let target = self.target.clone();
        let result = self
            .with_retry(|mut db| async move {
                sqlx::query("SELECT 1")
                    .execute(&mut *db)
                    .await
                    .map(drop)
                    .map_err(from_sqlx)
            })
            .await;
        match result {
            Ok(()) => DatabaseHealth::Online { target },
            Err(RegistryError::SchemaRefused(report)) => {
                DatabaseHealth::NeedsAttention { target, report }
            }
            Err(RegistryError::Unavailable(reason)) => {
                // The pool only says it timed out; one direct attempt tells the operator why.
                let reason = match self.diagnose().await {
                    Some(cause) => {
                        let _ = self.note::<()>(Err(RegistryError::Unavailable(cause.clone())));
                        cause
                    }
                    None => reason,
                };
                DatabaseHealth::Unavailable { target, reason }
            }
            Err(other) => {
                tracing::error!(error = %other, "health check failed");
                DatabaseHealth::Unavailable {
                    target,
                    reason: "the database answered with an unexpected error (see the log)".into(),
                }
            }
        }
    }

    #[tracing::instrument(skip(self), err)]
    pub async fn get_machine(&self, uid: Uuid) -> Result<Machine, RegistryError> {
        self.with_retry(|mut db| async move { repo::get_machine(&mut *db, uid).await })
            .await
    }

    #[tracing::instrument(skip(self), err)]
    pub async fn list_machines(&self, query: &ListQuery) -> Result<MachinePage, RegistryError> {
        let query = query.validate().map_err(RegistryError::Validation)?;
        self.ensure_schema().await?;
        self.fail_fast()?;
        // The page and the total run side by side on two connections: the total scans every
        // match, the page only an index range, so together they take about as long as the total.
        let (machines, total) = self.note(
            async {
                tokio::try_join!(
                    repo::list_machines(&self.pool, &query),
                    repo::count_machines(&self.pool, &query)
                )
            }
            .await,
        )?;
        Ok(MachinePage {
            machines,
            total,
            limit: query.limit,
            offset: query.offset,
            cached_at: None,
        })
    }

    #[tracing::instrument(skip(self), err)]
    pub async fn status_counts(
        &self,
        query: &ListQuery,
    ) -> Result<Vec<StatusCount>, RegistryError> {
        let query = query.validate().map_err(RegistryError::Validation)?;
        self.ensure_schema().await?;
        self.note(repo::status_counts(&self.pool, &query).await)
    }

    #[tracing::instrument(skip(self), err)]
    pub async fn machine_types(&self) -> Result<Vec<String>, RegistryError> {
        self.ensure_schema().await?;
        self.note(repo::machine_types(&self.pool).await)
    }

    #[tracing::instrument(skip(self, write), fields(write_id = %write.write_id, uid = %write.uid), err)]
    pub async fn create_machine(&self, write: &CreateMachine) -> Result<Machine, RegistryError> {
        let machine = write
            .machine
            .validate(Utc::now())
            .map_err(RegistryError::Validation)?;
        self.with_retry(|mut db| {
            let machine = &machine;
            async move { repo::create_machine(&mut db, write.write_id, write.uid, machine).await }
        })
        .await
    }

    #[tracing::instrument(skip(self, write), fields(write_id = %write.write_id, uid = %write.uid), err)]
    pub async fn update_machine(&self, write: &UpdateMachine) -> Result<Machine, RegistryError> {
        let machine = write
            .machine
            .validate(Utc::now())
            .map_err(RegistryError::Validation)?;
        self.with_retry(|mut db| {
            let machine = &machine;
            async move {
                repo::update_machine(
                    &mut db,
                    write.write_id,
                    write.uid,
                    write.expected_version,
                    machine,
                )
                .await
            }
        })
        .await
    }

    #[tracing::instrument(skip(self, write), fields(write_id = %write.write_id, uid = %write.uid), err)]
    pub async fn set_machine_status(
        &self,
        write: &SetMachineStatus,
    ) -> Result<Machine, RegistryError> {
        let status = OperationalStatus::parse(&write.status)
            .map_err(|message| RegistryError::field("status", message))?;
        self.with_retry(|mut db| async move {
            repo::set_machine_status(&mut db, write.write_id, write.uid, status).await
        })
        .await
    }

    #[tracing::instrument(skip(self, write), fields(write_id = %write.write_id, uid = %write.uid), err)]
    pub async fn delete_machine(&self, write: &DeleteMachine) -> Result<Machine, RegistryError> {
        self.with_retry(|mut db| async move {
            repo::delete_machine(&mut db, write.write_id, write.uid, write.expected_version).await
        })
        .await
    }

    /// Up to `limit` machines in id order, for the offline copy of the fleet.
    pub async fn all_machines(&self, limit: i64) -> Result<Vec<Machine>, RegistryError> {
        self.ensure_schema().await?;
        self.note(repo::all_machines(&self.pool, limit).await)
    }

    /// A fingerprint of the fleet that changes with any change to it.
    pub async fn fleet_signature(&self) -> Result<String, RegistryError> {
        self.ensure_schema().await?;
        self.note(repo::fleet_signature(&self.pool).await)
    }

    /// Forgets the write ids applied more than [`APPLIED_WRITES_RETENTION`] ago, in bounded
    /// steps; returns how many. Without this the record grows with every write forever.
    pub async fn prune_applied_writes(&self) -> Result<u64, RegistryError> {
        const STEP: i64 = 10_000;
        self.ensure_schema().await?;
        let before = Utc::now() - APPLIED_WRITES_RETENTION;
        let mut pruned = 0;
        loop {
            let step = repo::prune_applied_writes(&self.pool, before, STEP).await?;
            pruned += step;
            if step < STEP as u64 {
                return Ok(pruned);
            }
        }
    }

    /// Runs `operation` on a pooled connection. After a server restart the pool still holds dead
    /// connections; a query on one fails at once at the connection level, so the operation is
    /// tried again on another, up to the pool's size. A failure to get a connection at all means
    /// the database really is away and is returned at once. Safe for writes too: each carries a
    /// `write_id`, so a write whose commit did land before the connection broke is recognised.
    async fn with_retry<'a, T, F, Fut>(&'a self, operation: F) -> Result<T, RegistryError>
    where
        F: Fn(PoolConnection<Postgres>) -> Fut,
        Fut: std::future::Future<Output = Result<T, RegistryError>> + 'a,
    {
        self.ensure_schema().await?;
        self.fail_fast()?;
        let mut attempts_left = MAX_CONNECTIONS;
        loop {
            let connection = self.note(self.acquire().await)?;
            match self.note(operation(connection).await) {
                Err(RegistryError::Unavailable(reason)) if attempts_left > 0 => {
                    attempts_left -= 1;
                    tracing::debug!(%reason, "connection failed; trying another");
                }
                other => return other,
            }
        }
    }

    async fn acquire(&self) -> Result<PoolConnection<Postgres>, RegistryError> {
        self.pool.acquire().await.map_err(from_sqlx)
    }
}

/// How one direct connection attempt went.
enum DirectAttempt {
    /// The server answered (it may still have refused the login).
    Answered,
    /// The server cannot be reached, and why.
    Away(String),
    /// Nothing within the timeout.
    NoAnswer,
}

/// A migration error is either the database being away, our adoption check refusing rows (its
/// report is in the error's detail), or something for the log.
fn migrate_error(err: sqlx::migrate::MigrateError) -> RegistryError {
    use sqlx::migrate::MigrateError;
    match err {
        MigrateError::Execute(sqlx::Error::Database(db))
        | MigrateError::ExecuteMigration(sqlx::Error::Database(db), _)
            if db.message().starts_with("MES adoption refused") =>
        {
            let detail = db
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .map(|pg| {
                    format!(
                        "{}\n{}\n{}",
                        pg.message(),
                        pg.detail().unwrap_or_default(),
                        pg.hint().unwrap_or_default()
                    )
                })
                .unwrap_or_else(|| db.message().to_owned());
            RegistryError::SchemaRefused(detail)
        }
        MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _) => from_sqlx(e),
        other => RegistryError::Internal(format!("migration failed: {other}")),
    }
}
