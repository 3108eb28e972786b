//! The one error type that crosses to the UI: a tagged union (`{kind, data}`) the UI branches on.
//! Internal causes are logged here and replaced by a safe message.

use mes_core::domain::Machine;
use mes_core::{FieldError, RegistryError};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(tag = "kind", content = "data")]
pub enum CommandError {
    /// The machine does not exist (any more).
    NotFound { uid: Uuid },
    /// Some fields are invalid; nothing was changed.
    Validation { fields: Vec<FieldError> },
    /// Another machine already has this name (ignoring letter case).
    DuplicateName { name: String },
    /// The machine changed since it was read; `current` is how it is now.
    StaleVersion {
        expected: i64,
        current: Box<Machine>,
    },
    /// The database cannot be reached or refused the connection; try again later.
    DatabaseUnavailable { reason: String },
    /// The database holds rows the app cannot adopt; an administrator must fix them.
    NeedsAttention { report: String },
    /// The database refused the change for a reason of its own (a permission, a rule another
    /// tool added); nothing was changed.
    Refused { reason: String },
    /// Nobody is signed in, or no database is configured yet: the window shows the sign-in or
    /// connection screen.
    NotSignedIn { reason: String },
    /// The server refused the user name or password at sign-in; nothing changed.
    SignInRefused { reason: String },
    /// Something unexpected; the details are in the log.
    Internal { message: String },
}

impl From<RegistryError> for CommandError {
    fn from(error: RegistryError) -> Self {
        match error {
            RegistryError::NotFound { uid } => Self::NotFound { uid },
            RegistryError::Validation(fields) => Self::Validation { fields },
            RegistryError::DuplicateName { name } => Self::DuplicateName { name },
            RegistryError::StaleVersion { expected, current } => {
                Self::StaleVersion { expected, current }
            }
            RegistryError::Unavailable(reason) | RegistryError::Busy(reason) => {
                Self::DatabaseUnavailable { reason }
            }
            RegistryError::Refused(reason) => Self::Refused { reason },
            RegistryError::SchemaRefused(report) => Self::NeedsAttention { report },
            RegistryError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                Self::Internal {
                    message: "An unexpected error occurred; details are in the application log."
                        .into(),
                }
            }
        }
    }
}
