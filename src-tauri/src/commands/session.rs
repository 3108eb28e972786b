//! Who is working and where the database is: the connection screen, sign-in and sign-out.

use mes_core::config::{ConnectionSettings, DatabaseTarget};
use mes_core::domain::Privileges;
use mes_core::session::WaitingWrites;
use mes_core::{session, settings_file, DatabaseConfig, Registry, RegistryError};
use serde::Serialize;
use tauri::State;

use crate::error::CommandError;
use crate::state::{AppState, Session};

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SessionState {
    /// Nothing says where the database is yet: show the connection screen.
    NotConfigured,
    /// The settings cannot be used; `problem` says why.
    Broken { problem: String },
    /// Nobody is signed in: show the sign-in screen.
    SignedOut { last_user: Option<String> },
    SignedIn {
        user: String,
        target: DatabaseTarget,
    },
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct SessionInfo {
    pub state: SessionState,
    /// Where the database is, to fill the connection screen.
    pub settings: Option<ConnectionSettings>,
    /// `MES_DATABASE_URL` is set: it wins over the saved settings.
    pub settings_from_environment: bool,
    pub config_file: String,
    /// A password in the config file, or a file others can read.
    pub warnings: Vec<String>,
    /// What the signed-in user may do (`None` while the server has not said).
    pub privileges: Option<Privileges>,
    /// Other users' writes on this PC, waiting for them to sign in.
    pub waiting_elsewhere: Vec<WaitingWrites>,
}

#[tauri::command]
#[specta::specta]
pub async fn session_info(state: State<'_, AppState>) -> Result<SessionInfo, CommandError> {
    let config_file = state.config_file().clone();
    let session = state.session().await;
    let (session_state, synced, current_outbox) = match &*session {
        Session::NotConfigured => (SessionState::NotConfigured, None, None),
        Session::Broken(problem) => (
            SessionState::Broken {
                problem: problem.clone(),
            },
            None,
            None,
        ),
        Session::SignedOut { last_user } => (
            SessionState::SignedOut {
                last_user: last_user.clone(),
            },
            None,
            None,
        ),
        Session::Active(live) => (
            SessionState::SignedIn {
                user: live.config.user().to_owned(),
                target: live.config.target().clone(),
            },
            Some(live.synced.clone()),
            Some(live.outbox_path.clone()),
        ),
    };
    // The session may not end while it is read; the network call below must not hold it.
    drop(session);
    let privileges = match synced {
        Some(synced) => match synced.registry().privileges().await {
            Ok(privileges) => Some(privileges),
            Err(e) => {
                tracing::info!(error = %e, "privileges not known yet");
                None
            }
        },
        None => None,
    };
    // Nothing configured: the screen starts from its own defaults, not from the OS user's.
    let settings = match session_state {
        SessionState::NotConfigured => None,
        _ => DatabaseConfig::from_env(Some(&config_file))
            .ok()
            .map(|config| config.settings()),
    };
    let waiting_elsewhere = match (state.data_dir(), current_outbox) {
        (Some(dir), Some(current)) => session::waiting_elsewhere(dir, &current).await,
        (Some(dir), None) => session::waiting_elsewhere(dir, std::path::Path::new("")).await,
        _ => Vec::new(),
    };
    Ok(SessionInfo {
        state: session_state,
        settings,
        settings_from_environment: std::env::var(mes_core::config::DATABASE_URL_VAR)
            .is_ok_and(|v| !v.trim().is_empty()),
        config_file: config_file.display().to_string(),
        warnings: settings_file::warnings(&config_file),
        privileges,
        waiting_elsewhere,
    })
}

/// Signs in; the answer is a note for the window (e.g. the password could not be remembered).
#[tauri::command]
#[specta::specta]
pub async fn sign_in(
    state: State<'_, AppState>,
    user: String,
    password: Option<String>,
    remember: bool,
) -> Result<Option<String>, CommandError> {
    let password = password.filter(|p| !p.is_empty());
    state.sign_in(&user, password.as_deref(), remember).await
}

#[tauri::command]
#[specta::specta]
pub async fn sign_out(state: State<'_, AppState>) -> Result<(), CommandError> {
    state.sign_out().await;
    Ok(())
}

/// What "Test connection" found.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ConnectionTest {
    /// The server was reached (and, remote, over verified TLS).
    pub reached: bool,
    pub message: String,
}

/// Tries the settings once, without saving them: says exactly what failed.
#[tauri::command]
#[specta::specta]
pub async fn test_connection(
    settings: ConnectionSettings,
    user: Option<String>,
    password: Option<String>,
) -> Result<ConnectionTest, CommandError> {
    let user = user.filter(|u| !u.trim().is_empty());
    let password = password.filter(|p| !p.is_empty());
    let config =
        match DatabaseConfig::from_settings(&settings, user.as_deref(), password.as_deref()) {
            Ok(config) => config,
            Err(e) => {
                return Ok(ConnectionTest {
                    reached: false,
                    message: e.to_string(),
                })
            }
        };
    let registry = Registry::connect_lazy(&config);
    // One direct attempt says why a server cannot be reached; then a query says whether it
    // takes this user.
    let answer = match registry.probe().await {
        Err(reason) => Err(RegistryError::Unavailable(reason)),
        Ok(()) => registry.ping().await,
    };
    registry.pool().close().await;
    let reached = |message: String| ConnectionTest {
        reached: true,
        message,
    };
    Ok(match answer {
        Ok(()) => reached(format!(
            "Connected to {} and signed in.",
            config.target()
        )),
        Err(RegistryError::Unavailable(reason))
            if reason.starts_with(mes_core::error::SIGN_IN_REFUSED) =>
        {
            reached(format!(
                "The server at {} answered; it refused the user name or password (sign in with yours next).",
                config.configured_server()
            ))
        }
        Err(e) => ConnectionTest {
            reached: false,
            message: match e {
                RegistryError::Unavailable(reason) | RegistryError::Busy(reason) => reason,
                other => other.to_string(),
            },
        },
    })
}

/// Saves the connection settings to the config file (never a password) and starts over.
#[tauri::command]
#[specta::specta]
pub async fn save_connection(
    state: State<'_, AppState>,
    settings: ConnectionSettings,
) -> Result<(), CommandError> {
    state.save_connection(&settings).await
}
