use mes_core::registry::DatabaseHealth;
use serde::Serialize;
use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;

/// What the window shows about the database: its health and where to configure it.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct DatabaseStatus {
    pub health: DatabaseHealth,
    /// The config file the app reads `database_url` from (when MES_DATABASE_URL is unset).
    pub config_file: String,
}

#[tauri::command]
#[specta::specta]
pub async fn database_status(state: State<'_, AppState>) -> Result<DatabaseStatus, CommandError> {
    let health = state
        .call(|s| async move { Ok(s.registry().health().await) })
        .await?;
    Ok(DatabaseStatus {
        health,
        config_file: state.config_file().display().to_string(),
    })
}
