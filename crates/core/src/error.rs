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

    /// The database cannot be reached or refused the connection. The text is safe to show: it
    /// never contains the password or the full connection string.
    #[error("database unavailable: {0}")]
    Unavailable(String),

    /// The schema migration refused to adopt the existing table: the report lists offending rows.
    #[error("database needs attention: {0}")]
    SchemaRefused(String),

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

    /// True when the operation may succeed if simply tried again later (the database was away).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// Classifies a driver error that no repository function had a more specific meaning for:
/// connection-level trouble becomes `Unavailable` with a safe message, the rest `Internal`.
pub(crate) fn from_sqlx(err: sqlx::Error) -> RegistryError {
    match unavailable_reason(&err) {
        Some(reason) => RegistryError::Unavailable(reason),
        None => RegistryError::Internal(err.to_string()),
    }
}

fn unavailable_reason(err: &sqlx::Error) -> Option<String> {
    match err {
        sqlx::Error::Io(io) => Some(format!("cannot reach the database server ({})", io.kind())),
        sqlx::Error::Tls(_) => Some("the secure connection to the database failed".into()),
        sqlx::Error::PoolTimedOut => Some("the database did not answer in time".into()),
        sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
            Some("the connection to the database was closed".into())
        }
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            match code.as_ref() {
                "28P01" | "28000" => Some("the database refused the user name or password".into()),
                "3D000" => Some("the database does not exist on the server".into()),
                "57P01" | "57P02" | "57P03" => {
                    Some("the database server is shutting down or starting up".into())
                }
                "53300" => Some("the database server has too many connections".into()),
                c if c.starts_with("08") => Some("lost the connection to the database".into()),
                _ => None,
            }
        }
        _ => None,
    }
}
