use std::path::{Path, PathBuf};
use std::sync::Arc;

use mes_core::sync::{Outbox, SyncedRegistry};
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

    /// Resolves the database from `MES_DATABASE_URL`, else the config file, else PG defaults,
    /// and opens the outbox in `data_dir`.
    pub async fn open(config_file: PathBuf, data_dir: &Path) -> Self {
        let synced = match DatabaseConfig::from_env(Some(&config_file)) {
            Err(e) => {
                tracing::error!(error = %e, "database configuration is invalid");
                Err(e.to_string())
            }
            Ok(config) => {
                tracing::info!(target = %config.target(), "database configured");
                let registry = Arc::new(Registry::connect_lazy(&config));
                match Outbox::open(&data_dir.join(OUTBOX_FILE_NAME)).await {
                    Ok(outbox) => Ok(Arc::new(SyncedRegistry::new(registry, outbox))),
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
        self.synced
            .as_deref()
            .map_err(|problem| CommandError::DatabaseUnavailable {
                reason: format!("the app is not set up: {problem}"),
            })
    }

    /// A handle for background work that outlives a command (the sync worker).
    pub fn shared(&self) -> Option<Arc<SyncedRegistry>> {
        self.synced.as_ref().ok().cloned()
    }

    pub fn config_file(&self) -> &PathBuf {
        &self.config_file
    }
}
