use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use mes_core::config::ConnectionSettings;
use mes_core::sync::{
    AlertListener, LiveListener, Outbox, StatusListener, SyncedRegistry, OUTBOX_IN_USE,
};
use mes_core::{session, DatabaseConfig, Registry, RegistryError};
use tokio::sync::{OwnedRwLockReadGuard, RwLock};

use crate::credentials;
use crate::error::CommandError;

/// How long a sign-out waits for a replay in flight to finish its batch.
const SHUTDOWN_PATIENCE: Duration = Duration::from_secs(10);

/// The one managed state: the session of the signed-in user (the registry with its offline
/// outbox), or why there is none. A broken configuration is shown in the window (with the
/// connection screen to fix it) rather than ending the app before it can say anything.
pub struct AppState {
    config_file: PathBuf,
    data_dir: Option<PathBuf>,
    session: Arc<RwLock<Session>>,
    /// Sends the session's sync status to the window (set once the window exists).
    listener: OnceLock<StatusListener>,
    /// Sends new alerts to the window and the desktop (set once the window exists).
    alert_listener: OnceLock<AlertListener>,
    /// Sends machines changed by anyone to the window (set once the window exists).
    live_listener: OnceLock<LiveListener>,
}

/// Who is working now.
pub enum Session {
    /// Nothing says where the database is: the window shows the connection screen.
    NotConfigured,
    /// The settings are there but cannot be used (the reason is shown).
    Broken(String),
    /// Nobody is signed in: the window shows the sign-in screen.
    SignedOut {
        last_user: Option<String>,
    },
    Active(Box<Live>),
}

/// A running session: one user's registry and outbox, and its sync worker.
pub struct Live {
    pub synced: Arc<SyncedRegistry>,
    pub config: DatabaseConfig,
    pub outbox_path: PathBuf,
    worker: Option<tokio::task::JoinHandle<()>>,
}

pub const OUTBOX_FILE_NAME: &str = session::LEGACY_OUTBOX;

impl AppState {
    /// An app that cannot work, and why (shown in the window).
    pub fn failed(problem: String) -> Self {
        Self {
            config_file: PathBuf::new(),
            data_dir: None,
            session: Arc::new(RwLock::new(Session::Broken(problem))),
            listener: OnceLock::new(),
            alert_listener: OnceLock::new(),
            live_listener: OnceLock::new(),
        }
    }

    /// A state signed in with an existing registry and outbox (the IPC tests).
    pub fn signed_in(synced: SyncedRegistry, config_file: PathBuf) -> Self {
        let registry = synced.registry();
        let config = DatabaseConfig::with_options(
            registry.pool().connect_options().as_ref().clone(),
            registry.target().source,
        );
        let live = Live {
            synced: Arc::new(synced),
            config,
            outbox_path: PathBuf::new(),
            worker: None,
        };
        Self {
            config_file,
            data_dir: None,
            session: Arc::new(RwLock::new(Session::Active(Box::new(live)))),
            listener: OnceLock::new(),
            alert_listener: OnceLock::new(),
            live_listener: OnceLock::new(),
        }
    }

    /// The active session's registry, if there is one now (tests).
    pub fn shared(&self) -> Option<Arc<SyncedRegistry>> {
        match &*self.session.try_read().ok()? {
            Session::Active(live) => Some(live.synced.clone()),
            _ => None,
        }
    }

    /// The state at start: where the database is comes from `MES_DATABASE_URL`, else the config
    /// file, else PostgreSQL's defaults; the user from the file (last signed in) or the
    /// settings; the password from the settings, `.pgpass`, or the OS keyring ("remember me").
    /// The session opens even while the database is away: entry works offline.
    pub fn new(config_file: PathBuf, data_dir: PathBuf) -> Self {
        Self {
            config_file,
            data_dir: Some(data_dir),
            session: Arc::new(RwLock::new(Session::SignedOut { last_user: None })),
            listener: OnceLock::new(),
            alert_listener: OnceLock::new(),
            live_listener: OnceLock::new(),
        }
    }

    /// Sets where sync status changes go, then opens the first session.
    pub async fn start(&self, listener: StatusListener) {
        let _ = self.listener.set(listener);
        self.replace(self.first_session()).await;
    }

    /// As [`AppState::start`], with new alerts going to `alerts` and changed machines to `live`.
    pub async fn start_with_alerts(
        &self,
        listener: StatusListener,
        alerts: AlertListener,
        live: LiveListener,
    ) {
        let _ = self.listener.set(listener);
        let _ = self.alert_listener.set(alerts);
        let _ = self.live_listener.set(live);
        self.replace(self.first_session()).await;
    }

    async fn first_session(&self) -> Session {
        for warning in mes_core::settings_file::warnings(&self.config_file) {
            tracing::warn!(%warning, "configuration");
        }
        if !mes_core::settings_file::is_configured(&self.config_file) {
            tracing::info!("no database configured yet: showing the connection screen");
            return Session::NotConfigured;
        }
        let config = match DatabaseConfig::from_env(Some(&self.config_file)) {
            Ok(config) => config,
            Err(e) => {
                tracing::error!(error = %e, "database configuration is invalid");
                return Session::Broken(e.to_string());
            }
        };
        if !config.names_user() {
            tracing::info!("no user configured: asking who is working");
            return Session::SignedOut { last_user: None };
        }
        // A session opens by itself only with a credential: the settings' password, or one
        // remembered in the OS keyring. Otherwise whoever sits at the PC says who they are
        // (the last user is offered), so nobody works offline under another's name.
        let config = if config.has_password() {
            config
        } else {
            match credentials::recall(&session::owner(&config)).await {
                // Remembered, with no password to keep (peer, `.pgpass`).
                Some(password) if password.is_empty() => match config.for_user(config.user(), None)
                {
                    Ok(config) => config,
                    Err(e) => return Session::Broken(e.to_string()),
                },
                Some(password) => match config.for_user(config.user(), Some(&password)) {
                    Ok(config) => config,
                    Err(e) => return Session::Broken(e.to_string()),
                },
                None => {
                    return Session::SignedOut {
                        last_user: Some(config.user().to_owned()),
                    }
                }
            }
        };
        if let Some(data_dir) = &self.data_dir {
            let path = session::outbox_path(data_dir, &config);
            if let Err(e) = session::adopt_legacy_outbox(data_dir, &path).await {
                tracing::error!(error = %e, "could not adopt the outbox of an earlier version");
            }
        }
        self.open_session(config).await
    }

    /// Opens the session of `config`'s user: their own outbox (adopting an earlier version's),
    /// the registry, and the sync worker.
    async fn open_session(&self, config: DatabaseConfig) -> Session {
        let Some(data_dir) = &self.data_dir else {
            return Session::Broken("this user has no data folder".into());
        };
        tracing::info!(target = %config.target(), deadline_s = config.deadline().as_secs(), "opening a session");
        let outbox_path = session::outbox_path(data_dir, &config);
        let outbox = match Outbox::open(&outbox_path).await {
            Ok(outbox) => outbox,
            Err(e) if e.to_string().contains(OUTBOX_IN_USE) => {
                tracing::error!(error = %e, "another instance holds the local outbox");
                return Session::Broken("MES Machine Manager is already running for this user on this PC; use that window".into());
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot open the local outbox");
                return Session::Broken(format!(
                    "the local outbox in {} cannot be opened",
                    data_dir.display()
                ));
            }
        };
        if let Err(e) = outbox.claim(&session::owner(&config)).await {
            tracing::error!(error = %e, "the outbox belongs to someone else");
            outbox.close().await;
            return Session::Broken("the local outbox belongs to another user".into());
        }
        let registry = Arc::new(Registry::connect_lazy(&config));
        let synced = Arc::new(SyncedRegistry::new(registry, outbox));
        if let Some(alerts) = self.alert_listener.get() {
            synced.set_alert_listener(alerts.clone());
        }
        if let Some(live) = self.live_listener.get() {
            synced.set_live_listener(live.clone());
        }
        let worker = self.listener.get().map(|listener| {
            tauri::async_runtime::spawn(synced.clone().run_supervised(listener.clone()))
        });
        let worker = worker.map(|handle| match handle {
            tauri::async_runtime::JoinHandle::Tokio(handle) => handle,
        });
        Session::Active(Box::new(Live {
            synced,
            config,
            outbox_path,
            worker,
        }))
    }

    /// Ends the current session (waiting for commands in flight), then opens the next one in
    /// its place: the old session's outbox is closed before the next is opened, which may be
    /// the same user's.
    async fn replace(&self, next: impl Future<Output = Session>) {
        let mut session = self.session.write().await;
        if let Session::Active(live) = &mut *session {
            let worker = live.worker.take();
            live.synced.shutdown(worker, SHUTDOWN_PATIENCE).await;
        }
        *session = Session::SignedOut { last_user: None };
        *session = next.await;
    }

    /// Signs `user` in. The server checks the password when it answers. While it is away, the
    /// password is checked against the verifier kept in that user's own outbox at their last
    /// sign-in the server accepted on this PC; a user who never signed in here cannot start
    /// offline (their writes would later go out under a name nobody checked). The user is
    /// remembered in the config file; the password only in the OS keyring and only with
    /// `remember`. Returns a note for the window, if any.
    pub async fn sign_in(
        &self,
        user: &str,
        password: Option<&str>,
        remember: bool,
    ) -> Result<Option<String>, CommandError> {
        let user = user.trim();
        if user.is_empty() {
            return Err(CommandError::Validation {
                fields: vec![mes_core::FieldError::new(
                    "user",
                    "Enter your database user name",
                )],
            });
        }
        let Some(data_dir) = self.data_dir.clone() else {
            return Err(CommandError::Internal {
                message: "this user has no data folder".into(),
            });
        };
        let base = DatabaseConfig::from_env(Some(&self.config_file)).map_err(config_error)?;
        let config = base.for_user(user, password).map_err(config_error)?;
        let owner = session::owner(&config);
        let probe = Registry::connect_lazy(&config);
        let checked = probe.ping().await;
        probe.pool().close().await;
        let mut note = None;
        let verified_online = match checked {
            Ok(()) => true,
            Err(RegistryError::Unavailable(reason))
                if reason.starts_with(mes_core::error::SIGN_IN_REFUSED) =>
            {
                let mut said = reason.replacen(
                    mes_core::error::SIGN_IN_REFUSED,
                    "The database refused this user name or password",
                    1,
                );
                said.push('.');
                return Err(CommandError::SignInRefused { reason: said });
            }
            Err(e) if !e.is_transient() => return Err(e.into()),
            Err(e) => {
                let path = session::outbox_path(&data_dir, &config);
                let Some(verifier) = Outbox::recorded_verifier(&path).await else {
                    return Err(CommandError::SignInRefused {
                        reason: format!(
                            "The database cannot be reached ({e}), and {user} has not signed in on this PC before, so the password cannot be checked. Sign in when the database is back."
                        ),
                    });
                };
                let typed = password.map(str::to_owned);
                let matches = tauri::async_runtime::spawn_blocking(move || {
                    session::verifies(&verifier, typed.as_deref())
                })
                .await
                .unwrap_or(false);
                if !matches {
                    return Err(CommandError::SignInRefused {
                        reason: "The database cannot be reached, and this password is not the one of your last sign-in on this PC.".into(),
                    });
                }
                note = Some(format!(
                    "Signed in while the database cannot be reached ({e}): your password was checked against your last sign-in on this PC. Changes are kept here and sent when it is back."
                ));
                false
            }
        };
        // Only a sign-in the server accepted may change what the keyring holds. Remembered
        // without a password (peer, `.pgpass`): an empty entry, so the next start signs in.
        if verified_online {
            if remember {
                if let Err(trouble) = credentials::remember(&owner, password.unwrap_or("")).await {
                    note = Some(trouble);
                }
            } else {
                credentials::forget(&owner).await;
            }
        } else if remember {
            note = note.map(|n| {
                format!("{n} The password is remembered after a sign-in the database accepts.")
            });
        }
        if let Err(e) = mes_core::settings_file::save_user(&self.config_file, Some(user)) {
            tracing::warn!(error = %e, "could not remember the signed-in user");
        }
        // The check for this user's next offline sign-in, kept in their own outbox as it opens.
        let verifier = if verified_online {
            let typed = password.map(str::to_owned);
            tauri::async_runtime::spawn_blocking(move || session::verifier(typed.as_deref()))
                .await
                .ok()
        } else {
            None
        };
        // An earlier version's outbox holds the configured user's writes: adopted by them.
        if config.user() == base.user() {
            let path = session::outbox_path(&data_dir, &config);
            if let Err(e) = session::adopt_legacy_outbox(&data_dir, &path).await {
                tracing::error!(error = %e, "could not adopt the outbox of an earlier version");
            }
        }
        self.replace(async {
            let next = self.open_session(config).await;
            if let (Session::Active(live), Some(verifier)) = (&next, &verifier) {
                if let Err(e) = live.synced.outbox().set_verifier(verifier).await {
                    tracing::warn!(error = %e, "could not keep the offline sign-in check");
                }
            }
            next
        })
        .await;
        Ok(note)
    }

    /// Signs out: the session ends, the remembered password is forgotten; queued writes stay
    /// in this user's outbox for their next sign-in.
    pub async fn sign_out(&self) {
        let owner = match &*self.session.read().await {
            Session::Active(live) => {
                Some((session::owner(&live.config), live.config.user().to_owned()))
            }
            _ => None,
        };
        if let Some((owner, _)) = &owner {
            credentials::forget(owner).await;
        }
        if let Err(e) = mes_core::settings_file::save_user(&self.config_file, None) {
            tracing::warn!(error = %e, "could not forget the signed-in user");
        }
        let last_user = owner.map(|(_, user)| user);
        self.replace(async { Session::SignedOut { last_user } })
            .await;
    }

    /// Saves the connection screen's settings and starts over with them.
    pub async fn save_connection(&self, settings: &ConnectionSettings) -> Result<(), CommandError> {
        DatabaseConfig::from_settings(settings, None, None).map_err(config_error)?;
        mes_core::settings_file::save_settings(&self.config_file, settings)
            .map_err(config_error)?;
        self.replace(self.first_session()).await;
        Ok(())
    }

    /// Runs one core call in a task of its own and converts its error: a panic inside the core
    /// becomes an `Internal` answer (and a log line) instead of a command that never answers.
    /// The session cannot end while the call runs.
    pub async fn call<T, F, Fut>(&self, work: F) -> Result<T, CommandError>
    where
        F: FnOnce(Arc<SyncedRegistry>) -> Fut,
        Fut: Future<Output = Result<T, RegistryError>> + Send + 'static,
        T: Send + 'static,
    {
        let session = self.session.clone().read_owned().await;
        let synced = active(&session)?.synced.clone();
        let task = work(synced);
        let guarded = async move {
            let answer = task.await;
            drop(session);
            answer
        };
        match tauri::async_runtime::spawn(guarded).await {
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

    /// The current session, read-locked (it cannot end while held).
    pub async fn session(&self) -> OwnedRwLockReadGuard<Session> {
        self.session.clone().read_owned().await
    }

    pub fn config_file(&self) -> &PathBuf {
        &self.config_file
    }

    pub fn data_dir(&self) -> Option<&Path> {
        self.data_dir.as_deref()
    }
}

/// The active session, or the answer that says why there is none.
pub fn active(session: &Session) -> Result<&Live, CommandError> {
    match session {
        Session::Active(live) => Ok(live),
        Session::NotConfigured => Err(CommandError::NotSignedIn {
            reason: "no database is configured yet".into(),
        }),
        Session::SignedOut { .. } => Err(CommandError::NotSignedIn {
            reason: "nobody is signed in".into(),
        }),
        Session::Broken(problem) => Err(CommandError::DatabaseUnavailable {
            reason: format!("the app is not set up: {problem}"),
        }),
    }
}

fn config_error(e: mes_core::config::ConfigError) -> CommandError {
    CommandError::Validation {
        fields: vec![mes_core::FieldError::new("connection", e.to_string())],
    }
}
