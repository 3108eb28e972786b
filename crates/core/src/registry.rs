use std::sync::{Arc, OnceLock};

use chrono::Utc;
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::config::{DatabaseConfig, DatabaseTarget, DEFAULT_DEADLINE};
use crate::db::{Db, DirectAttempt};
use crate::domain::{
    validate_target, CreateMachine, DeleteMachine, FleetEfficiency, HistoryEntry, ListQuery,
    Machine, MachinePage, MachineTimeline, OperationalStatus, Privileges, ReliabilityReport,
    SetMachineStatus, StatusCount, TimeRange, UpdateMachine,
};
use crate::error::{from_sqlx, RegistryError};
use crate::{repo, schema};

/// How long an applied write id is remembered. A write is only ever sent again by a client
/// that crashed between the server's commit and removing it from its outbox, and it resends on
/// its next connection; 180 days covers any plausible outage. Even past that, a create would
/// meet its own name and machine id, and an edit or delete its moved-on version (all shown as
/// needing attention), so only a status change could be applied a second time.
pub const APPLIED_WRITES_RETENTION: chrono::TimeDelta = chrono::TimeDelta::days(180);

/// The machine registry: the connection (`Db`), the schema brought up to date once, and the
/// operations the app offers. Every operation validates its input first, so bad input is refused
/// (and nothing changes) even while the database is unreachable.
pub struct Registry {
    db: Arc<Db>,
    target: DatabaseTarget,
    schema: OnceCell<()>,
    /// The client (one PC's outbox) this registry writes for: its own writes never conflict
    /// with each other (see `repo::machines_write`).
    client: OnceLock<Uuid>,
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
    /// The server answered but refused this user or password: the window asks to sign in.
    SignInRequired {
        target: DatabaseTarget,
        reason: String,
    },
}

impl Registry {
    /// Builds the pool without connecting: the app starts (and shows its window) even when the
    /// database is away, and connects when it comes back.
    pub fn connect_lazy(config: &DatabaseConfig) -> Self {
        Self::with_db(Db::connect_lazy(config), config.target().clone())
    }

    /// Wraps an existing pool whose schema is already migrated (tests, benchmarks).
    pub fn from_pool(pool: sqlx::PgPool, target: DatabaseTarget) -> Self {
        Self::with_db(Db::from_pool(pool, DEFAULT_DEADLINE), target)
    }

    pub fn with_db(db: Db, target: DatabaseTarget) -> Self {
        Self {
            db: Arc::new(db),
            target,
            schema: OnceCell::new(),
            client: OnceLock::new(),
        }
    }

    pub fn pool(&self) -> &sqlx::PgPool {
        self.db.pool()
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn target(&self) -> &DatabaseTarget {
        &self.target
    }

    /// Names the client this registry writes for (set once, by the outbox that owns it).
    pub fn set_client(&self, client: Uuid) {
        if self.client.set(client).is_err() && self.client.get() != Some(&client) {
            tracing::error!("a registry was given a second client id; keeping the first");
        }
    }

    pub fn client(&self) -> Option<Uuid> {
        self.client.get().copied()
    }

    /// Checks once per process that the database has this app's schema; later calls return at
    /// once. The app never migrates: a database behind the app is refused with the step an
    /// administrator takes (`mes-admin migrate`), and checked again on the next call.
    #[tracing::instrument(skip(self), err)]
    pub async fn ensure_schema(&self) -> Result<(), RegistryError> {
        if self.schema.initialized() {
            return Ok(());
        }
        self.db.fail_fast()?;
        let db = self.db.clone();
        let target = self.target.clone();
        let result = self
            .schema
            .get_or_try_init(|| async move {
                schema::check(&db).await?;
                tracing::info!(%target, "database schema matches this app");
                Ok(())
            })
            .await
            .copied();
        self.db.note(result)
    }

    /// Says quickly whether the server is still away (refused, closed, unknown host), which is
    /// what a check while offline mostly hears. `Err` holds the reason; a server that answers,
    /// even to refuse the login, is `Ok` (the full health check then says what is wrong).
    pub async fn probe(&self) -> Result<(), String> {
        match self.db.connect_once().await {
            DirectAttempt::Away(reason) => Err(reason),
            DirectAttempt::NoAnswer => Err(self.db.too_slow().to_string()),
            // Back: the next calls must try it, not fail fast on the last failure.
            DirectAttempt::Answered => self.db.note(Ok(())).map_err(|e| e.to_string()),
        }
    }

    /// Whether the server answers a query, without touching the schema (`mes-admin status`).
    pub async fn ping(&self) -> Result<(), RegistryError> {
        self.db
            .run(|conn| {
                Box::pin(async move {
                    sqlx::query("SELECT 1")
                        .execute(conn)
                        .await
                        .map(drop)
                        .map_err(from_sqlx)
                })
            })
            .await
    }

    /// The schema is up to date and the server answers.
    pub async fn health(&self) -> DatabaseHealth {
        let target = self.target.clone();
        let result = match self.ensure_schema().await {
            Ok(()) => self.ping().await,
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => DatabaseHealth::Online { target },
            Err(RegistryError::SchemaRefused(report)) => {
                DatabaseHealth::NeedsAttention { target, report }
            }
            Err(RegistryError::Unavailable(reason)) | Err(RegistryError::Busy(reason)) => {
                // The pool only says it timed out; one direct attempt tells the operator why.
                let reason = match self.db.connect_once().await {
                    DirectAttempt::Away(cause) => {
                        let _ = self
                            .db
                            .note::<()>(Err(RegistryError::Unavailable(cause.clone())));
                        cause
                    }
                    DirectAttempt::Answered | DirectAttempt::NoAnswer => reason,
                };
                if reason.starts_with(crate::error::SIGN_IN_REFUSED) {
                    DatabaseHealth::SignInRequired { target, reason }
                } else {
                    DatabaseHealth::Unavailable { target, reason }
                }
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
        self.ensure_schema().await?;
        self.db
            .run(move |conn| Box::pin(async move { repo::get_machine(conn, uid).await }))
            .await
    }

    /// The machines with these uids that exist (a live batch: one query).
    pub async fn machines_by_uid(&self, uids: &[Uuid]) -> Result<Vec<Machine>, RegistryError> {
        self.ensure_schema().await?;
        let uids = uids.to_vec();
        self.db
            .run(move |conn| {
                let uids = uids.clone();
                Box::pin(async move { repo::machines_by_uid(conn, &uids).await })
            })
            .await
    }

    #[tracing::instrument(skip(self), err)]
    pub async fn list_machines(&self, query: &ListQuery) -> Result<MachinePage, RegistryError> {
        let query = query.validate().map_err(RegistryError::Validation)?;
        self.ensure_schema().await?;
        // The page and the total run side by side on two connections: the total scans every
        // match, the page only an index range, so together they take about as long as the total.
        let (page_query, count_query) = (query.clone(), query.clone());
        let (machines, total) = tokio::try_join!(
            self.db.run(move |conn| {
                let query = page_query.clone();
                Box::pin(async move { repo::list_machines(conn, &query).await })
            }),
            self.db.run(move |conn| {
                let query = count_query.clone();
                Box::pin(async move { repo::count_machines(conn, &query).await })
            })
        )?;
        Ok(MachinePage {
            machines,
            total,
            limit: query.limit,
            offset: query.offset,
            cached_at: None,
        })
    }

    /// Every machine `query` selects, its own limit and offset applying (the export's read),
    /// in one snapshot that may take up to `limit`.
    pub async fn all_matching(
        &self,
        query: &crate::domain::ValidListQuery,
        limit: std::time::Duration,
    ) -> Result<Vec<Machine>, RegistryError> {
        self.ensure_schema().await?;
        let query = query.clone();
        self.db
            .long_transaction(
                limit,
                move |conn| Box::pin(async move { repo::list_machines(conn, &query).await }),
                |_| true,
            )
            .await
    }

    #[tracing::instrument(skip(self), err)]
    pub async fn status_counts(
        &self,
        query: &ListQuery,
    ) -> Result<Vec<StatusCount>, RegistryError> {
        let query = query.validate().map_err(RegistryError::Validation)?;
        self.ensure_schema().await?;
        self.db
            .run(move |conn| {
                let query = query.clone();
                Box::pin(async move { repo::status_counts(conn, &query).await })
            })
            .await
    }

    #[tracing::instrument(skip(self), err)]
    pub async fn machine_types(&self) -> Result<Vec<String>, RegistryError> {
        self.ensure_schema().await?;
        self.db
            .run(|conn| Box::pin(async move { repo::machine_types(conn).await }))
            .await
    }

    #[tracing::instrument(skip(self, write), fields(write_id = %write.write_id, uid = %write.uid), err)]
    pub async fn create_machine(&self, write: &CreateMachine) -> Result<Machine, RegistryError> {
        let machine = write
            .machine
            .validate(Utc::now())
            .map_err(RegistryError::Validation)?;
        self.ensure_schema().await?;
        let (write_id, uid, client) = (write.write_id, write.uid, self.client());
        self.db
            .run(move |conn| {
                let machine = machine.clone();
                Box::pin(async move {
                    repo::create_machine(conn, write_id, uid, &machine, client).await
                })
            })
            .await
    }

    #[tracing::instrument(skip(self, write), fields(write_id = %write.write_id, uid = %write.uid), err)]
    pub async fn update_machine(&self, write: &UpdateMachine) -> Result<Machine, RegistryError> {
        let machine = write
            .machine
            .validate(Utc::now())
            .map_err(RegistryError::Validation)?;
        self.ensure_schema().await?;
        let (write_id, uid, expected, seen, client) = (
            write.write_id,
            write.uid,
            write.expected_version,
            write.efficiency_seen,
            self.client(),
        );
        self.db
            .run(move |conn| {
                let machine = machine.clone();
                Box::pin(async move {
                    repo::update_machine(conn, write_id, uid, expected, seen, &machine, client)
                        .await
                })
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
        self.ensure_schema().await?;
        let (write_id, uid, client) = (write.write_id, write.uid, self.client());
        self.db
            .run(move |conn| {
                Box::pin(async move {
                    repo::set_machine_status(conn, write_id, uid, status, client).await
                })
            })
            .await
    }

    #[tracing::instrument(skip(self, write), fields(write_id = %write.write_id, uid = %write.uid), err)]
    pub async fn delete_machine(&self, write: &DeleteMachine) -> Result<Machine, RegistryError> {
        self.ensure_schema().await?;
        let (write_id, uid, expected, client) = (
            write.write_id,
            write.uid,
            write.expected_version,
            self.client(),
        );
        self.db
            .run(move |conn| {
                Box::pin(async move {
                    repo::delete_machine(conn, write_id, uid, expected, client).await
                })
            })
            .await
    }

    /// Time in each status, Down periods, MTTR and MTBF over `range`, per machine and per type
    /// (see `domain::reliability`).
    pub async fn reliability(&self, range: TimeRange) -> Result<ReliabilityReport, RegistryError> {
        range
            .validate()
            .map_err(|m| RegistryError::field("range", m))?;
        self.ensure_schema().await?;
        let machines = self
            .db
            .run(move |conn| {
                Box::pin(async move { repo::machine_reliability(conn, range, Utc::now()).await })
            })
            .await?;
        Ok(ReliabilityReport {
            range,
            types: crate::domain::by_type(&machines),
            machines,
        })
    }

    /// A machine's status bands and efficiency changes within `range` (also a deleted one's).
    pub async fn machine_timeline(
        &self,
        uid: Uuid,
        range: TimeRange,
    ) -> Result<MachineTimeline, RegistryError> {
        range
            .validate()
            .map_err(|m| RegistryError::field("range", m))?;
        self.ensure_schema().await?;
        self.db
            .run(move |conn| {
                Box::pin(async move { repo::machine_timeline(conn, uid, range, Utc::now()).await })
            })
            .await
    }

    /// The fleet's efficiency against `target` (median, distribution, machines below it).
    pub async fn fleet_efficiency(&self, target: f64) -> Result<FleetEfficiency, RegistryError> {
        let target = validate_target(target).map_err(|m| RegistryError::field("target", m))?;
        self.ensure_schema().await?;
        self.db
            .run(move |conn| Box::pin(async move { repo::fleet_efficiency(conn, target).await }))
            .await
    }

    /// What the signed-in user may do, by the server's privilege checks.
    pub async fn privileges(&self) -> Result<Privileges, RegistryError> {
        self.ensure_schema().await?;
        self.db
            .run(|conn| Box::pin(async move { repo::privileges(conn).await }))
            .await
    }

    /// A machine's changes by anyone, newest first (at most 500), deleted machines included.
    pub async fn machine_history(&self, uid: Uuid) -> Result<Vec<HistoryEntry>, RegistryError> {
        self.ensure_schema().await?;
        self.db
            .run(move |conn| Box::pin(async move { repo::machine_history(conn, uid, 500).await }))
            .await
    }

    /// Up to `limit` machines in id order with the fleet's fingerprint, read in one snapshot so
    /// the two agree: the offline copy of the fleet.
    pub async fn fleet_snapshot(
        &self,
        limit: i64,
    ) -> Result<(Vec<Machine>, String), RegistryError> {
        self.ensure_schema().await?;
        self.db
            .run(move |conn| {
                Box::pin(async move {
                    let mut tx = sqlx::Connection::begin(conn).await.map_err(from_sqlx)?;
                    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                        .execute(&mut *tx)
                        .await
                        .map_err(from_sqlx)?;
                    let signature = repo::fleet_signature(&mut *tx).await?;
                    let machines = repo::all_machines(&mut *tx, limit).await?;
                    tx.commit().await.map_err(from_sqlx)?;
                    Ok((machines, signature))
                })
            })
            .await
    }

    /// A fingerprint of the fleet that changes with any committed change to it.
    pub async fn fleet_signature(&self) -> Result<String, RegistryError> {
        self.ensure_schema().await?;
        self.db
            .run(|conn| Box::pin(async move { repo::fleet_signature(conn).await }))
            .await
    }

    /// Forgets the write ids applied more than [`APPLIED_WRITES_RETENTION`] ago, in bounded
    /// steps; returns how many. Without this the record grows with every write forever.
    pub async fn prune_applied_writes(&self) -> Result<u64, RegistryError> {
        self.prune_applied_writes_before(Utc::now() - APPLIED_WRITES_RETENTION, 10_000)
            .await
    }

    /// Forgets the write ids applied before `before`, `step` at a time.
    pub async fn prune_applied_writes_before(
        &self,
        before: chrono::DateTime<Utc>,
        step: i64,
    ) -> Result<u64, RegistryError> {
        self.ensure_schema().await?;
        let mut pruned = 0;
        loop {
            let done = self
                .db
                .run(move |conn| {
                    Box::pin(async move { repo::prune_applied_writes(conn, before, step).await })
                })
                .await?;
            pruned += done;
            if done < step as u64 {
                return Ok(pruned);
            }
        }
    }
}
