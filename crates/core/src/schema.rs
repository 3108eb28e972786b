//! The schema: migrations run on a connection of their own, closed whatever happens (sqlx's
//! migrator holds a session advisory lock, which a failed run would otherwise leave held on a
//! pooled connection, blocking every other PC's start), with a bounded wait for that lock; a
//! database migrated by a newer app is refused with a clear message instead of a hang or a
//! half-understood table.

use std::time::Duration;

use sqlx::{Connection, PgConnection};

use crate::db::{Db, DbFuture};
use crate::error::{from_sqlx, RegistryError};
use crate::{repo, MIGRATOR};

/// How long a start waits for another PC that is migrating the same database.
const MIGRATION_LOCK_WAIT: Duration = Duration::from_secs(10);
/// A migration may rewrite a large table; anything longer is a stuck server or network.
const MIGRATION_TIME_LIMIT: Duration = Duration::from_secs(600);

/// What the database's schema is, read without changing anything.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SchemaState {
    /// The newest migration applied to the database (0 when none).
    pub database: i64,
    /// The newest migration this app knows.
    pub app: i64,
    /// Rows the app shows marked: values other tools stored that break the registry's rules.
    pub rule_breaks: Vec<String>,
}

impl SchemaState {
    pub fn up_to_date(&self) -> bool {
        self.database == self.app
    }
}

/// The newest migration this app carries.
pub fn app_schema_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Reads the schema's state. Only reads: safe on any database (`mes-admin status`).
pub async fn inspect(db: &Db) -> Result<SchemaState, RegistryError> {
    db.run(|conn| {
        Box::pin(async move {
            let database = applied_version(conn).await?;
            let rule_breaks = if database > 0 {
                repo::rule_breaks(&mut *conn, 50).await?
            } else {
                Vec::new()
            };
            Ok(SchemaState {
                database,
                app: app_schema_version(),
                rule_breaks,
            })
        })
    })
    .await
}

async fn applied_version(conn: &mut PgConnection) -> Result<i64, RegistryError> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await
        .map_err(from_sqlx)?;
    if !exists {
        return Ok(0);
    }
    sqlx::query_scalar("SELECT coalesce(max(version), 0) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut *conn)
        .await
        .map_err(from_sqlx)
}

/// What the app says when the database's schema is not the one it was built for. The app never
/// changes the schema itself: its users' roles may not, and an upgrade is an administrator's
/// deliberate step (`mes-admin migrate`, run by the role that owns the tables).
pub fn mismatch(database: i64, app: i64) -> Option<String> {
    if database > app {
        Some(format!(
            "this app is older than the database (schema {database} > {app}): install the newer version of MES Machine Manager"
        ))
    } else if database < app {
        Some(format!(
            "the database needs an upgrade by an administrator (schema {database}, app needs {app}): run `mes-admin migrate` as the role that owns the tables"
        ))
    } else {
        None
    }
}

/// Checks, without changing anything, that the database has exactly this app's schema.
pub async fn check(db: &Db) -> Result<(), RegistryError> {
    let database = db
        .run(|conn| Box::pin(async move { applied_version(conn).await }))
        .await?;
    match mismatch(database, app_schema_version()) {
        None => Ok(()),
        Some(report) => Err(RegistryError::SchemaRefused(report)),
    }
}

/// Creates or updates the app's group roles and their grants (`mes-admin roles`), on a
/// connection of its own, once the schema is this app's.
pub async fn grant_roles(db: &Db) -> Result<Vec<String>, RegistryError> {
    check(db).await?;
    let mut conn = db.connect_direct().await?;
    let result = tokio::time::timeout(MIGRATION_TIME_LIMIT, repo::grant_roles(&mut conn)).await;
    let _ = tokio::time::timeout(db.deadline(), conn.close()).await;
    result.unwrap_or_else(|_| {
        Err(RegistryError::Unavailable(
            "granting the roles took too long".into(),
        ))
    })
}

/// Brings the schema up to date on a connection of its own, which is closed afterwards whatever
/// happened. Refuses a database migrated by a newer app.
pub async fn migrate(db: &Db) -> Result<(), RegistryError> {
    let mut conn = db.connect_direct().await?;
    let result = tokio::time::timeout(MIGRATION_TIME_LIMIT, migrate_on(&mut conn)).await;
    // Closing the session releases the migrator's advisory lock even after a failed run; when
    // the network is gone, dropping the socket does (the server notices by its keepalives).
    match result {
        Ok(result) => {
            let _ = tokio::time::timeout(db.deadline(), conn.close()).await;
            result.map_err(|e| match e {
                RegistryError::Busy(_) => RegistryError::Unavailable(
                    "another PC is upgrading the database schema; trying again shortly".into(),
                ),
                other => other,
            })
        }
        Err(_) => Err(RegistryError::Unavailable(format!(
            "the schema migration did not finish within {} minutes",
            MIGRATION_TIME_LIMIT.as_secs() / 60
        ))),
    }
}

/// Boxed: sqlx's executor bounds are not general enough for a spawned task otherwise.
fn migrate_on(conn: &mut PgConnection) -> DbFuture<'_, ()> {
    Box::pin(async move {
        // A migration may take long; waiting for another PC's migration lock may not.
        sqlx::query("SELECT set_config('statement_timeout', '0', false), set_config('lock_timeout', $1, false)")
        .bind(format!("{}ms", MIGRATION_LOCK_WAIT.as_millis()))
        .execute(&mut *conn)
        .await
        .map_err(from_sqlx)?;
        let database = applied_version(conn).await?;
        let app = app_schema_version();
        if database > app {
            return Err(RegistryError::SchemaRefused(
                mismatch(database, app).unwrap_or_default(),
            ));
        }
        MIGRATOR.run_direct(conn).await.map_err(migrate_error)?;
        validate_pending_checks(conn).await
    })
}

/// Validates this app's CHECKs that were added NOT VALID (existing rows broke them) once no row
/// breaks them any more: from then on the server vouches for every row. Other tools' unvalidated
/// constraints are theirs and left alone.
async fn validate_pending_checks(conn: &mut PgConnection) -> Result<(), RegistryError> {
    let pending: Vec<(String, String)> = sqlx::query_as(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
         WHERE conrelid = 'machines'::regclass AND contype = 'c' AND NOT convalidated
           AND conname IN ('machines_last_maintenance_sane', 'machines_created_at_sane', 'machines_updated_at_sane')",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(from_sqlx)?;
    for (name, definition) in pending {
        // `definition` is the server's own text of the CHECK (e.g. "CHECK ((...)) NOT VALID").
        let condition = definition
            .trim_start_matches("CHECK ")
            .trim_end_matches(" NOT VALID");
        let check = format!("SELECT EXISTS (SELECT 1 FROM machines WHERE NOT {condition})");
        let broken: bool = sqlx::query_scalar(&check)
            .fetch_one(&mut *conn)
            .await
            .map_err(from_sqlx)?;
        if broken {
            tracing::warn!(constraint = %name, "rows still break this rule; it stays unvalidated (see mes-admin status)");
        } else {
            let validate = format!(
                "ALTER TABLE machines VALIDATE CONSTRAINT {}",
                quote_ident(&name)
            );
            sqlx::query(&validate)
                .execute(&mut *conn)
                .await
                .map_err(from_sqlx)?;
            tracing::info!(constraint = %name, "rule validated for every row");
        }
    }
    Ok(())
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A migration error is either the database being away, our adoption check refusing rows (its
/// report is in the error's detail), another PC migrating, or something for the log.
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
        MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _) => match from_sqlx(e) {
            RegistryError::Busy(_) => RegistryError::Unavailable(
                "another PC is upgrading the database schema; trying again shortly".into(),
            ),
            other => other,
        },
        MigrateError::VersionMissing(version) => RegistryError::SchemaRefused(format!(
            "the database has migration {version}, which this app does not know: it is older than the database"
        )),
        MigrateError::VersionMismatch(version) => RegistryError::SchemaRefused(format!(
            "migration {version} in the database differs from this app's: the schema was changed by hand"
        )),
        other => RegistryError::Internal(format!("migration failed: {other}")),
    }
}
