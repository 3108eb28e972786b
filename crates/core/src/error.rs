use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::Machine;

/// A problem with one input field, named as the field is named in the input type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// Everything a registry operation can fail with. Each variant is something a caller can act on
/// differently; `Internal` carries a cause for the log, never for the user.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("machine {uid} not found")]
    NotFound { uid: Uuid },

    #[error("invalid input: {}", summarise(.0))]
    Validation(Vec<FieldError>),

    #[error("a machine named {name:?} already exists")]
    DuplicateName { name: String },

    #[error("machine {} changed since version {expected} (now version {})", .current.uid, .current.version)]
    StaleVersion {
        expected: i64,
        current: Box<Machine>,
    },

    /// The database cannot be reached, did not answer within its deadline, or does not accept
    /// work now (shutting down, read-only, full). The text is safe to show: it never contains the
    /// password or the full connection string. Writes wait in the outbox and are sent later.
    #[error("database unavailable: {0}")]
    Unavailable(String),

    /// The server is there but this attempt collided with other work (a deadlock, a serialization
    /// failure, a lock held too long): the same write succeeds when simply tried again.
    #[error("database busy: {0}")]
    Busy(String),

    /// The schema cannot be used by this app: the adoption refused rows, the database is newer
    /// than the app, or a migration could not run. The text says what to do.
    #[error("database needs attention: {0}")]
    SchemaRefused(String),

    /// The server refused this change for a reason of its own (a permission, a rule another tool
    /// added). The text is in the app's words; the server's own text goes to the log.
    #[error("refused by the database: {0}")]
    Refused(String),

    #[error("internal error: {0}")]
    Internal(String),
}

fn summarise(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl RegistryError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// True when the operation may succeed if simply tried again later.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::Busy(_))
    }
}

/// What the app says when the server refuses the login: the window then asks to sign in.
pub const SIGN_IN_REFUSED: &str = "the database refused the user name or password";

const NO_SUCH_DATABASE: &str = "the database does not exist on the server";
const STATEMENT_TIMEOUT: &str = "the database did not finish in time (statement timeout)";
const TOO_MANY_CONNECTIONS: &str = "the database server has too many connections";
const DISK_FULL: &str = "the database server's disk is full";
const OUT_OF_MEMORY: &str = "the database server is out of memory";

/// Whether an unavailable database's reason may mean the server is gone or no longer the
/// primary (so another server of a host list may be the one to use). Not when the server
/// answered and refused for a reason of its own: a sign-in, a full server, a slow statement.
pub(crate) fn may_have_failed_over(reason: &str) -> bool {
    !(reason.starts_with(SIGN_IN_REFUSED)
        || [
            NO_SUCH_DATABASE,
            STATEMENT_TIMEOUT,
            TOO_MANY_CONNECTIONS,
            DISK_FULL,
            OUT_OF_MEMORY,
            POOLER_REFUSED_SETTINGS,
        ]
        .contains(&reason))
}

/// What the app says when a connection pooler refuses the settings sent at connection start.
pub const POOLER_REFUSED_SETTINGS: &str = "a connection pooler between this PC and the database (PgBouncer) refused the connection's settings: set pgbouncer = true in config.toml (or tick \"Through PgBouncer\" in the connection settings)";

/// What the app says when the server's privileges refuse a change (SQLSTATE 42501).
pub const PERMISSION_DENIED: &str = "your database role may not do this (an administrator can put you in the group that may: mes_operator for changes to machines)";

/// What a driver error means for the caller, by SQLSTATE where the server gave one.
enum Class {
    Unavailable(String),
    Busy(String),
    Refused(String),
    Internal,
}

/// Classifies a driver error that no repository function had a more specific meaning for.
pub(crate) fn from_sqlx(err: sqlx::Error) -> RegistryError {
    match classify(&err) {
        Class::Unavailable(reason) => RegistryError::Unavailable(reason),
        Class::Busy(reason) => RegistryError::Busy(reason),
        Class::Refused(reason) => {
            tracing::warn!(error = %err, %reason, "the database refused a change");
            RegistryError::Refused(reason)
        }
        Class::Internal => RegistryError::Internal(err.to_string()),
    }
}

fn classify(err: &sqlx::Error) -> Class {
    use Class::*;
    match err {
        // rustls reports a refused certificate as invalid data on the socket.
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
            tracing::warn!(error = %io, "TLS or protocol failure");
            Unavailable(tls_reason(&io.to_string()))
        }
        sqlx::Error::Io(io) => {
            Unavailable(format!("cannot reach the database server ({})", io.kind()))
        }
        sqlx::Error::Tls(tls) => Unavailable(tls_reason(&tls.to_string())),
        sqlx::Error::PoolTimedOut => Unavailable("the database did not answer in time".into()),
        sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
            Unavailable("the connection to the database was closed".into())
        }
        sqlx::Error::Protocol(_) => Unavailable("the connection to the database broke".into()),
        // PgBouncer refuses settings sent at connection start (the deadlines).
        sqlx::Error::Database(db) if db.message().contains("unsupported startup parameter") => {
            Unavailable(POOLER_REFUSED_SETTINGS.into())
        }
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            classify_sqlstate(code.as_ref())
        }
        _ => Internal,
    }
}

/// What went wrong setting up TLS, and what to do about it, from the TLS library's words.
fn tls_reason(cause: &str) -> String {
    let lower = cause.to_ascii_lowercase();
    if lower.contains("unknownissuer") || lower.contains("unknown issuer") {
        "the database server's certificate is signed by an authority this PC does not trust: set sslrootcert (in config.toml or the URL) or PGSSLROOTCERT to the plant's CA file".into()
    } else if lower.contains("notvalidforname") || lower.contains("not valid for name") {
        "the database server's certificate does not name the host connected to: connect by the name its certificate was made for (or have one made for this name)".into()
    } else if lower.contains("does not support tls") {
        "the database server does not offer TLS: turn on ssl in its postgresql.conf (README, Deploying in a plant), or set allow_insecure = true to send in clear knowingly".into()
    } else if lower.contains("expired") {
        "the database server's certificate has expired: the server needs a new one".into()
    } else {
        format!("the secure connection to the database failed ({cause})")
    }
}

/// The server's error codes (PostgreSQL appendix A) that mean "not now" rather than "no".
fn classify_sqlstate(code: &str) -> Class {
    use Class::*;
    match code {
        "28P01" => Unavailable(SIGN_IN_REFUSED.into()),
        // No pg_hba.conf line lets this user in from this PC, a login by LDAP/PAM/peer/… failed,
        // or the role may not log in: a refused sign-in too, said with its other causes.
        "28000" => Unavailable(format!(
            "{SIGN_IN_REFUSED}, or does not let this user connect from this PC (pg_hba.conf, a login that is disabled)"
        )),
        "3D000" => Unavailable(NO_SUCH_DATABASE.into()),
        "57P01" | "57P02" | "57P03" => {
            Unavailable("the database server is shutting down or starting up".into())
        }
        "57014" => Unavailable(STATEMENT_TIMEOUT.into()),
        "25006" => Unavailable(crate::failover::READ_ONLY.into()),
        "25P03" | "57P05" => Unavailable("the database server ended an idle session".into()),
        "53300" => Unavailable(TOO_MANY_CONNECTIONS.into()),
        "53100" => Unavailable(DISK_FULL.into()),
        "53200" => Unavailable(OUT_OF_MEMORY.into()),
        "40001" => Busy("another change to the same rows was made at the same moment".into()),
        "40P01" => Busy("a deadlock with another change; it will be tried again".into()),
        "55P03" => Busy("a machine is locked by another session for too long".into()),
        c if c.starts_with("08") => Unavailable("lost the connection to the database".into()),
        c if c.starts_with("53") || c.starts_with("58") => Unavailable(format!(
            "the database server has a resource problem (error {c})"
        )),
        "42501" => Refused(PERMISSION_DENIED.into()),
        "P0001" => Refused("a rule in the database (a trigger) refused this change".into()),
        c if c.starts_with("23") => Refused(format!(
            "the change breaks a rule of the database table (error {c})"
        )),
        // Inside a batch, the statements after a failed one answer so; the batch is redone
        // in smaller parts, where the real cause shows.
        "25P02" => Internal,
        c if c.starts_with("22") => Refused(format!(
            "the database could not store a value of this change (error {c})"
        )),
        _ => Internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_codes_are_not_conflicts() {
        for code in ["40001", "40P01", "55P03"] {
            assert!(matches!(classify_sqlstate(code), Class::Busy(_)), "{code}");
        }
        for code in ["57014", "53300", "57P01", "25006", "08006", "25P03"] {
            assert!(
                matches!(classify_sqlstate(code), Class::Unavailable(_)),
                "{code}"
            );
        }
        for code in ["42501", "P0001", "23514"] {
            assert!(
                matches!(classify_sqlstate(code), Class::Refused(_)),
                "{code}"
            );
        }
    }
}
