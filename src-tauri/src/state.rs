use std::path::{Path, PathBuf};
use std::sync::Arc;

use std::future::Future;

use mes_core::sync::{Outbox, SyncedRegistry, OUTBOX_IN_USE};
use mes_core::RegistryError;
use mes_core::{DatabaseConfig, Registry};

use crate::error::CommandError;

/// The one managed state: the registry with its offline outbox, or why there is none (a broken
/// configuration is shown in the window rather than ending the app before it can say anything).
pub struct AppState {
    synced: Result<Arc<SyncedRegistry>, String>,
    config_file: PathBuf,
}

pub const OUTBOX_FILE_NAME: &str = "outbox.sqlite3";

impl AppState {
    pub fn new(synced: SyncedRegistry, config_file: PathBuf) -> Self {
        Self {
            synced: Ok(Arc::new(synced)),
            config_file,
        }
    }

    /// An app that cannot work, and why (shown in the window).
    pub fn failed(problem: String) -> Self {
        Self {
            synced: Err(problem),
            config_file: PathBuf::new(),
        }
    }

    /// Resolves the database from `MES_DATABASE_URL`, else the config file, else PG defaults,
    /// and opens the outbox in `data_dir`.
    pub async fn open(config_file: PathBuf, data_dir: &Path) -> Self {
        let synced = match DatabaseConfig::from_env(Some(&config_file)) {
            Err(e) => {
                tracing::error!(error = %e, "database configuration is invalid");
                Err(e.to_string())
            }
            Ok(config) => {
                tracing::info!(target = %config.target(), deadline_s = config.deadline().as_secs(), "database configured");
                let registry = Arc::new(Registry::connect_lazy(&config));
                match Outbox::open(&data_dir.join(OUTBOX_FILE_NAME)).await {
                    Ok(outbox) => Ok(Arc::new(SyncedRegistry::new(registry, outbox))),
                    Err(e) if e.to_string().contains(OUTBOX_IN_USE) => {
                        tracing::error!(error = %e, "another instance holds the local outbox");
                        Err("MES Machine Manager is already running for this user on this PC; use that window".into())
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cannot open the local outbox");
                        Err(format!(
                            "the local outbox in {} cannot be opened",
                            data_dir.display()
                        ))
                    }
                }
            }
        };
        Self {
            synced,
            config_file,
        }
    }

    pub fn synced(&self) -> Result<&SyncedRegistry, CommandError> {
        self.synced.as_deref().map_err(|_| self.not_set_up())
    }

    fn not_set_up(&self) -> CommandError {
        let problem = self.synced.as_ref().err().map_or("", String::as_str);
        CommandError::DatabaseUnavailable {
            reason: format!("the app is not set up: {problem}"),
        }
    }

    /// Runs one core call in a task of its own and converts its error: a panic inside the core
    /// becomes an `Internal` answer (and a log line) instead of a command that never answers.
    pub async fn call<T, F, Fut>(&self, work: F) -> Result<T, CommandError>
    where
        F: FnOnce(Arc<SyncedRegistry>) -> Fut,
        Fut: Future<Output = Result<T, RegistryError>> + Send + 'static,
        T: Send + 'static,
    {
        let synced = match &self.synced {
            Ok(synced) => synced.clone(),
            Err(_) => return Err(self.not_set_up()),
        };
        match tauri::async_runtime::spawn(work(synced)).await {
            Ok(result) => result.map_err(CommandError::from),
            Err(e) => {
                tracing::error!(error = %e, "a command failed unexpectedly");
                Err(CommandError::Internal {
                    message: "An unexpected error occurred; details are in the application log."
                        .into(),
                })
            }
        }
    }

    /// A handle for background work that outlives a command (the sync worker).
    pub fn shared(&self) -> Option<Arc<SyncedRegistry>> {
        self.synced.as_ref().ok().cloned()
    }

    pub fn config_file(&self) -> &PathBuf {
        &self.config_file
    }
}
