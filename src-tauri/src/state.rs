use std::path::PathBuf;
use std::sync::Arc;

use mes_core::{DatabaseConfig, Registry};

use crate::error::CommandError;

/// The one managed state: the registry, or why there is none (a broken configuration is shown
/// in the window rather than ending the app before it can say anything).
pub struct AppState {
    registry: Result<Arc<Registry>, String>,
    config_file: PathBuf,
}

impl AppState {
    pub fn new(registry: Registry, config_file: PathBuf) -> Self {
        Self {
            registry: Ok(Arc::new(registry)),
            config_file,
        }
    }

    /// Resolves the database from `MES_DATABASE_URL`, else the config file, else PG defaults.
    pub fn from_environment(config_file: PathBuf) -> Self {
        let registry = DatabaseConfig::from_env(Some(&config_file))
            .map(|config| {
                tracing::info!(target = %config.target(), "database configured");
                Arc::new(Registry::connect_lazy(&config))
            })
            .map_err(|e| {
                tracing::error!(error = %e, "database configuration is invalid");
                e.to_string()
            });
        Self {
            registry,
            config_file,
        }
    }

    pub fn registry(&self) -> Result<&Registry, CommandError> {
        self.registry
            .as_deref()
            .map_err(|problem| CommandError::DatabaseUnavailable {
                reason: format!("the configuration is invalid: {problem}"),
            })
    }

    /// A handle for background work that outlives a command (the start-up migration).
    pub fn shared_registry(&self) -> Option<Arc<Registry>> {
        self.registry.as_ref().ok().cloned()
    }

    pub fn config_file(&self) -> &PathBuf {
        &self.config_file
    }
}
