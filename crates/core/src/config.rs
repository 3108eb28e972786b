//! Where the database is. Order: PostgreSQL's own defaults (`PGHOST`, `PGUSER`, … as psql uses
//! them), then `database_url` in the config file, then `MES_DATABASE_URL`. The URL holds a
//! password, so it is kept inside `PgConnectOptions` and only a redacted target is ever shown.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::host_list;
use sqlx::postgres::{PgConnectOptions, PgSslMode};

pub const DATABASE_URL_VAR: &str = "MES_DATABASE_URL";
/// Seconds each database call may take before the database counts as unavailable.
pub const DEADLINE_VAR: &str = "MES_DB_DEADLINE_SECS";
/// The default deadline: a healthy server answers in milliseconds; a network that drops packets
/// is noticed within this, and the operator's write is queued instead of hanging.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(5);
pub const CONFIG_FILE_NAME: &str = "config.toml";

/// Where the database URL came from, for the log and the status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ConfigSource {
    Environment,
    ConfigFile,
    PostgresDefaults,
}

/// What may be shown of a connection: user, host, port and database, never the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct DatabaseTarget {
    pub display: String,
    pub source: ConfigSource,
    /// The connection to a remote host is not verified TLS (`allow_insecure` permitted it): the
    /// window warns for as long as it runs so.
    pub insecure: bool,
}

impl fmt::Display for DatabaseTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

/// Connection settings. `Debug` is written by hand so the password can never be printed.
#[derive(Clone)]
pub struct DatabaseConfig {
    options: PgConnectOptions,
    /// Every server of a host list, in its order (the first is `options`); empty for one server.
    /// The one that accepts writes is found when connecting (see `failover`).
    hosts: Vec<PgConnectOptions>,
    /// `options` and `hosts` before the per-connection settings (deadlines, keepalives).
    base: PgConnectOptions,
    base_hosts: Vec<PgConnectOptions>,
    /// The connection goes through PgBouncer, which refuses settings sent at connection start
    /// (`options`): they are set by a query right after connecting instead.
    pgbouncer: bool,
    target: DatabaseTarget,
    deadline: Duration,
    /// How these options were made, to make them again for another user (sign-in).
    recipe: Recipe,
    /// The settings name the user (the URL, `PGUSER`, or the user last signed in), rather
    /// than falling back to the OS user's name.
    names_user: bool,
    /// The connecting user's password is given (in the URL for that user, or `PGPASSWORD`).
    password_given: bool,
}

/// Where the connection comes from, before any user is signed in: a URL (the environment's, the
/// file's, one made of the file's host/port/database, or `postgres://` for PostgreSQL's
/// defaults) and the file's TLS settings. Holds a password when the URL does: never shown.
#[derive(Clone)]
struct Recipe {
    url: String,
    url_name: String,
    sslrootcert: Option<PathBuf>,
    allow_insecure: bool,
    pgbouncer: bool,
    source: ConfigSource,
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("target", &self.target.display)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    // The URL itself is not echoed: it may hold a password.
    #[error("{source_name} is not a valid PostgreSQL URL (expected postgres://user:password@host:port/database)")]
    BadUrl { source_name: String },
    #[error("cannot read the config file {path}: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("the config file {path} is not valid TOML: {reason}")]
    BadFile { path: PathBuf, reason: String },
    #[error("{source_name} must be a number of seconds from 1 to 300")]
    BadDeadline { source_name: String },
    #[error("the connection to {host} would not be verified TLS (sslmode={mode}), so passwords and changes could be read or altered on the way: use sslmode=verify-full with the plant's CA (sslrootcert), or set allow_insecure = true in config.toml to accept it knowingly (the window then warns)")]
    Insecure { host: String, mode: &'static str },
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigFile {
    /// A whole URL (may hold a password: the window then warns). The connection screen writes
    /// `host`, `port` and `database` instead.
    pub(crate) database_url: Option<String>,
    /// The server: a host name, an address, or a Unix socket folder.
    pub(crate) host: Option<String>,
    pub(crate) port: Option<u16>,
    pub(crate) database: Option<String>,
    /// The user last signed in (never the password: that is in the OS keyring, if remembered).
    pub(crate) user: Option<String>,
    /// Seconds each database call may take (default 5).
    pub(crate) deadline_seconds: Option<u64>,
    /// The CA file the server's certificate must chain to (else the system's trusted roots).
    pub(crate) sslrootcert: Option<PathBuf>,
    /// Accept plaintext or unverified TLS to a remote host (the window warns).
    pub(crate) allow_insecure: Option<bool>,
    /// The server is reached through PgBouncer in session mode (see README, "Poolers").
    pub(crate) pgbouncer: Option<bool>,
}

fn deadline_from(seconds: u64, source_name: &str) -> Result<Duration, ConfigError> {
    if (1..=300).contains(&seconds) {
        Ok(Duration::from_secs(seconds))
    } else {
        Err(ConfigError::BadDeadline {
            source_name: source_name.to_owned(),
        })
    }
}

impl DatabaseConfig {
    /// Resolves the settings from the environment value (if any) and the config file (if it
    /// exists). A missing file is normal; an unreadable or malformed one is an error.
    pub fn resolve(
        env_url: Option<String>,
        config_file: Option<&Path>,
    ) -> Result<Self, ConfigError> {
        let file = match config_file {
            Some(path) => read_config_file(path)?,
            None => ConfigFile::default(),
        };
        let path_name = |what: &str| {
            config_file.map_or_else(|| what.to_owned(), |p| format!("{what} in {}", p.display()))
        };
        let (url, url_name, source) = if let Some(url) = env_url.filter(|u| !u.trim().is_empty()) {
            (
                url.trim().to_owned(),
                DATABASE_URL_VAR.to_owned(),
                ConfigSource::Environment,
            )
        } else if let Some(url) = &file.database_url {
            (
                url.trim().to_owned(),
                path_name("database_url"),
                ConfigSource::ConfigFile,
            )
        } else if file.host.is_some() || file.port.is_some() || file.database.is_some() {
            (
                settings_url(file.host.as_deref(), file.port, file.database.as_deref()),
                path_name("host, port and database"),
                ConfigSource::ConfigFile,
            )
        } else {
            (
                "postgres://".to_owned(),
                "PostgreSQL's defaults".to_owned(),
                ConfigSource::PostgresDefaults,
            )
        };
        let recipe = Recipe {
            url,
            url_name,
            sslrootcert: file.sslrootcert.clone(),
            allow_insecure: file.allow_insecure.unwrap_or(false),
            pgbouncer: file.pgbouncer.unwrap_or(false),
            source,
        };
        let mut config = Self::build(&recipe, file.user.as_deref(), None)?;
        config.names_user = file.user.is_some()
            || std::env::var("PGUSER").is_ok_and(|u| !u.trim().is_empty())
            || url::Url::parse(&host_list::first_url(&recipe.url)).is_ok_and(|u| {
                !u.username().is_empty() || u.query_pairs().any(|(k, _)| k == "user")
            });
        if let (Some(seconds), Some(path)) = (file.deadline_seconds, config_file) {
            let name = format!("deadline_seconds in {}", path.display());
            config = config.with_deadline(deadline_from(seconds, &name)?);
        }
        Ok(config)
    }

    /// The options for `user` (else the recipe's own), with `password` (else the URL's when it
    /// is the URL's user, else `PGPASSWORD` or `.pgpass`, as libpq would), under the TLS rule.
    /// A host list gives options for each host, each under the rule for its own name.
    fn build(
        recipe: &Recipe,
        user: Option<&str>,
        password: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let urls = host_list::per_host_urls(&recipe.url)
            .map_err(|()| ConfigError::BadUrl {
                source_name: recipe.url_name.clone(),
            })?
            .unwrap_or_else(|| vec![recipe.url.clone()]);
        let mut each = urls
            .iter()
            .map(|url| Self::build_one(url, recipe, user, password))
            .collect::<Result<Vec<_>, _>>()?;
        let mut config = each.remove(0);
        if each.is_empty() {
            return Ok(config);
        }
        let hosts: Vec<PgConnectOptions> = std::iter::once(&config)
            .chain(&each)
            .map(|c| c.options.clone())
            .collect();
        config.base_hosts = std::iter::once(&config)
            .chain(&each)
            .map(|c| c.base.clone())
            .collect();
        config.target.insecure |= each.iter().any(|c| c.target.insecure);
        config.target.display = format!(
            "{}@{}/{}",
            config.options.get_username(),
            host_ports(&hosts),
            config
                .options
                .get_database()
                .unwrap_or(config.options.get_username())
        );
        config.hosts = hosts;
        config.apply_settings();
        Ok(config)
    }

    /// [`Self::build`] for a URL that names one host.
    fn build_one(
        url: &str,
        recipe: &Recipe,
        user: Option<&str>,
        password: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let url = with_credentials(url, user, password).ok_or_else(|| ConfigError::BadUrl {
            source_name: recipe.url_name.clone(),
        })?;
        let password_given =
            url_has_password(&url) || std::env::var("PGPASSWORD").is_ok_and(|p| !p.is_empty());
        let options = parse_url(&url, &recipe.url_name)?;
        let options = match &recipe.sslrootcert {
            Some(ca) => options.ssl_root_cert(ca),
            None => options,
        };
        let (options, insecure) = secure(options, recipe.allow_insecure)?;
        let mut config = Self::with_options(options, recipe.source);
        config.target.insecure = insecure;
        config.recipe = recipe.clone();
        config.pgbouncer = recipe.pgbouncer;
        config.apply_settings();
        config.names_user = user.is_some();
        config.password_given = password_given;
        Ok(config)
    }

    /// The same database for another user (sign-in). Without a password: `.pgpass`,
    /// `PGPASSWORD` or a login that needs none (peer, trust, certificate).
    pub fn for_user(&self, user: &str, password: Option<&str>) -> Result<Self, ConfigError> {
        Ok(Self::build(&self.recipe, Some(user), password)?.with_deadline(self.deadline))
    }

    /// The user these options connect as.
    pub fn user(&self) -> &str {
        self.options.get_username()
    }

    /// Whether the settings name the user; if not, the window asks who is working instead of
    /// trying the OS user's name.
    pub fn names_user(&self) -> bool {
        self.names_user
    }

    /// Whether the settings name the user's password themselves (a URL with a password, or
    /// `PGPASSWORD`): then no sign-in is asked for.
    pub fn has_password(&self) -> bool {
        self.password_given
    }

    /// The server as configured (`host:port`), before any default is filled in: a stable name
    /// for whose writes an outbox holds. Without a host in the settings it is "(default)", not
    /// the socket or `localhost` that sqlx picks depending on what exists at the moment.
    pub fn configured_server(&self) -> String {
        if !self.hosts.is_empty() {
            return host_ports(&self.hosts);
        }
        let from_url = url::Url::parse(&self.recipe.url).ok().and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "host" || k == "hostaddr")
                .map(|(_, v)| v.into_owned())
                .or_else(|| u.host_str().filter(|h| !h.is_empty()).map(str::to_owned))
        });
        let host = from_url
            .or_else(|| std::env::var("PGHOSTADDR").ok().filter(|h| !h.is_empty()))
            .or_else(|| std::env::var("PGHOST").ok().filter(|h| !h.is_empty()))
            .unwrap_or_else(|| "(default)".to_owned());
        format!("{host}:{}", self.options.get_port())
    }

    /// Where the settings came from.
    pub fn source(&self) -> ConfigSource {
        self.recipe.source
    }

    /// The host (list), port and database these options reach, for the connection screen.
    pub fn settings(&self) -> ConnectionSettings {
        ConnectionSettings {
            host: if self.hosts.is_empty() {
                self.options.get_host().to_owned()
            } else {
                host_ports(&self.hosts)
            },
            port: self.options.get_port(),
            database: self
                .options
                .get_database()
                .unwrap_or(self.options.get_username())
                .to_owned(),
            sslrootcert: self
                .recipe
                .sslrootcert
                .as_ref()
                .map(|p| p.display().to_string())
                .or_else(|| {
                    url::Url::parse(&host_list::first_url(&self.recipe.url))
                        .ok()
                        .and_then(|u| {
                            u.query_pairs()
                                .find(|(k, _)| k == "sslrootcert" || k == "ssl-root-cert")
                                .map(|(_, v)| v.into_owned())
                        })
                }),
            allow_insecure: self.recipe.allow_insecure,
            pgbouncer: self.recipe.pgbouncer,
        }
    }

    /// Options made from the connection screen's settings (no user yet: `user` or the OS user).
    pub fn from_settings(
        settings: &ConnectionSettings,
        user: Option<&str>,
        password: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let recipe = Recipe {
            url: settings_url(
                Some(settings.host.trim()).filter(|h| !h.is_empty()),
                Some(settings.port),
                Some(settings.database.trim()).filter(|d| !d.is_empty()),
            ),
            url_name: "the connection settings".into(),
            sslrootcert: settings
                .sslrootcert
                .as_deref()
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(PathBuf::from),
            allow_insecure: settings.allow_insecure,
            pgbouncer: settings.pgbouncer,
            source: ConfigSource::ConfigFile,
        };
        Self::build(&recipe, user, password)
    }

    /// Reads `MES_DATABASE_URL` and `MES_DB_DEADLINE_SECS` from the process environment, then
    /// the file.
    pub fn from_env(config_file: Option<&Path>) -> Result<Self, ConfigError> {
        let config = Self::resolve(std::env::var(DATABASE_URL_VAR).ok(), config_file)?;
        match std::env::var(DEADLINE_VAR) {
            Ok(text) if !text.trim().is_empty() => {
                let seconds = text.trim().parse().map_err(|_| ConfigError::BadDeadline {
                    source_name: DEADLINE_VAR.into(),
                })?;
                Ok(config.with_deadline(deadline_from(seconds, DEADLINE_VAR)?))
            }
            _ => Ok(config),
        }
    }

    /// How long each database call may take. The server is told too (`statement_timeout`,
    /// `lock_timeout`, `idle_in_transaction_session_timeout`), so it stops work nobody waits for
    /// and releases the locks of a PC whose network froze mid-transaction.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self.apply_settings();
        self
    }

    /// `options` and `hosts` from their bases: with the per-connection settings sent at
    /// connection start, or without them behind PgBouncer (see [`Self::settings_to_set`]).
    fn apply_settings(&mut self) {
        let (pgbouncer, deadline) = (self.pgbouncer, self.deadline);
        self.options = finished(&self.base, pgbouncer, deadline);
        self.hosts = self
            .base_hosts
            .iter()
            .map(|base| finished(base, pgbouncer, deadline))
            .collect();
    }

    /// Behind PgBouncer: the settings each new connection must make with `set_config` (they
    /// last for the client's session; PgBouncer's reset query clears them when it ends).
    pub fn settings_to_set(&self) -> Option<Vec<(&'static str, String)>> {
        self.pgbouncer.then(|| {
            let mut values = session_values(self.deadline);
            values.push(("extra_float_digits", "2".to_owned()));
            values
        })
    }

    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// The database at `url`, under the TLS rule (see [`secure`]) without `allow_insecure`.
    pub fn from_url(
        url: &str,
        source: ConfigSource,
        source_name: &str,
    ) -> Result<Self, ConfigError> {
        let recipe = Recipe {
            url: url.to_owned(),
            url_name: source_name.to_owned(),
            sslrootcert: None,
            allow_insecure: false,
            pgbouncer: false,
            source,
        };
        Self::build(&recipe, None, None)
    }

    /// Options made elsewhere (tests, benchmarks). Signing in as another user starts from
    /// PostgreSQL's defaults.
    pub fn with_options(options: PgConnectOptions, source: ConfigSource) -> Self {
        // A DBA must see which PC holds a connection (pg_stat_activity.application_name).
        let options = options.application_name(&format!("mes-machine-manager@{}", host_name()));
        let target = DatabaseTarget {
            display: format!(
                "{}@{}:{}/{}",
                options.get_username(),
                options.get_host(),
                options.get_port(),
                options.get_database().unwrap_or(options.get_username())
            ),
            source,
            insecure: false,
        };
        Self {
            options: options.clone().options(session_values(DEFAULT_DEADLINE)),
            hosts: Vec::new(),
            base: options,
            base_hosts: Vec::new(),
            pgbouncer: false,
            target,
            deadline: DEFAULT_DEADLINE,
            recipe: Recipe {
                url: "postgres://".into(),
                url_name: "PostgreSQL's defaults".into(),
                sslrootcert: None,
                allow_insecure: false,
                pgbouncer: false,
                source,
            },
            names_user: true,
            password_given: false,
        }
    }

    pub fn options(&self) -> &PgConnectOptions {
        &self.options
    }

    /// The options for each server of a host list, in its order; empty when one server is set.
    pub fn hosts(&self) -> &[PgConnectOptions] {
        &self.hosts
    }

    pub fn target(&self) -> &DatabaseTarget {
        &self.target
    }
}

/// What the connection screen edits: where the database is. Saved to `config.toml`; the user
/// and password are asked for at sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ConnectionSettings {
    /// A host name, an address or a Unix socket folder; or a list of them for a replicated
    /// database (`db1,db2` or `db1:5432,db2:5433`): the one accepting writes is used.
    pub host: String,
    pub port: u16,
    pub database: String,
    /// The plant CA's certificate file (PEM); empty for the system's trusted roots.
    pub sslrootcert: Option<String>,
    pub allow_insecure: bool,
    /// The host is PgBouncer in session mode: the per-connection settings are made by a query
    /// after connecting (PgBouncer refuses them at connection start).
    #[serde(default)]
    pub pgbouncer: bool,
}

/// A URL of the given parts; what is missing comes from PostgreSQL's defaults when parsed.
fn settings_url(host: Option<&str>, port: Option<u16>, database: Option<&str>) -> String {
    let mut url = match url::Url::parse("postgres://") {
        Ok(url) => url,
        Err(_) => return "postgres://".into(),
    };
    {
        let mut query = url.query_pairs_mut();
        if let Some(host) = host {
            query.append_pair("host", host);
        }
        if let Some(port) = port {
            query.append_pair("port", &port.to_string());
        }
        if let Some(database) = database {
            query.append_pair("dbname", database);
        }
    }
    url.to_string()
}

/// `url` with another user and password: in the authority when the URL has a host there, else
/// as `user=`/`password=` parameters. `None` when `url` is not a URL at all.
fn with_credentials(url: &str, user: Option<&str>, password: Option<&str>) -> Option<String> {
    if user.is_none() && password.is_none() {
        return Some(url.to_owned());
    }
    let mut parsed = url::Url::parse(url).ok()?;
    // sqlx applies `?user=`/`?password=` after the authority: they name the URL's user.
    let url_user = parsed
        .query_pairs()
        .find(|(k, _)| k == "user")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| parsed.username().to_owned());
    let same_user = user.is_none_or(|u| u == url_user);
    // The URL's own password belongs to the URL's own user only.
    let drop_password = password.is_some() || !same_user;
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| !(user.is_some() && k == "user" || drop_password && k == "password"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let has_host = parsed.host_str().is_some_and(|h| !h.is_empty());
    if has_host {
        if let Some(user) = user {
            parsed.set_username(user).ok()?;
        }
        if drop_password {
            parsed.set_password(password).ok()?;
        }
    }
    {
        let mut query = parsed.query_pairs_mut();
        query.clear();
        for (k, v) in &kept {
            query.append_pair(k, v);
        }
        if !has_host {
            if let Some(user) = user {
                query.append_pair("user", user);
            }
            if let Some(password) = password {
                query.append_pair("password", password);
            }
        }
    }
    if parsed.query() == Some("") {
        parsed.set_query(None);
    }
    Some(parsed.to_string())
}

/// Whether `url` carries a password (in its authority or as `?password=`).
fn url_has_password(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| {
        u.password().is_some()
            || u.query_pairs()
                .any(|(k, v)| k == "password" && !v.is_empty())
    })
}

fn parse_url(url: &str, source_name: &str) -> Result<PgConnectOptions, ConfigError> {
    let bad_url = || ConfigError::BadUrl {
        source_name: source_name.to_owned(),
    };
    // sqlx's parser ignores the scheme; a mysql:// URL here is a mistake worth saying so.
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(bad_url());
    }
    PgConnectOptions::from_str(url).map_err(|_| bad_url())
}

/// Whether the server is on this computer (a loopback address or a Unix socket): there the
/// connection never crosses a network.
fn is_local(options: &PgConnectOptions) -> bool {
    let host = options.get_host();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    options.get_socket().is_some()
        || host.starts_with('/')
        || host == "localhost"
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The TLS rule, decided on the mode sqlx will really use (however it was spelled: URL,
/// `PGSSLMODE`). To a server on this computer, whatever was asked. To any other host: verified
/// TLS (`verify-full`: the certificate chains to `sslrootcert` or the system's roots and names
/// the host). sqlx's default (`prefer`, which falls back to plaintext) becomes `verify-full`; a
/// mode that does not check the host name (`disable`, `allow`, `require`, `verify-ca`) is
/// refused unless `allow_insecure` accepts it, and then the connection is marked insecure.
/// Returns the options and whether they are insecure.
fn secure(
    options: PgConnectOptions,
    allow_insecure: bool,
) -> Result<(PgConnectOptions, bool), ConfigError> {
    if is_local(&options) {
        return Ok((options, false));
    }
    let unverified: &'static str = match options.get_ssl_mode() {
        PgSslMode::VerifyFull => return Ok((options, false)),
        PgSslMode::Prefer => return Ok((options.ssl_mode(PgSslMode::VerifyFull), false)),
        PgSslMode::Disable => "disable",
        PgSslMode::Allow => "allow",
        PgSslMode::Require => "require",
        PgSslMode::VerifyCa => "verify-ca",
    };
    if allow_insecure {
        tracing::warn!(
            host = options.get_host(),
            sslmode = unverified,
            "the database connection is not verified TLS (allow_insecure)"
        );
        Ok((options, true))
    } else {
        Err(ConfigError::Insecure {
            host: options.get_host().to_owned(),
            mode: unverified,
        })
    }
}

/// Per-connection settings, sent at connection start (no extra round trip) or, behind PgBouncer,
/// made right after connecting. Keepalives are the
/// server's: sqlx cannot set the client socket's, but the server then notices a PC that vanished
/// and ends its session (and its locks) within about half a minute.
fn session_values(deadline: Duration) -> Vec<(&'static str, String)> {
    let ms = deadline.as_millis();
    vec![
        ("statement_timeout", ms.to_string()),
        ("lock_timeout", (ms / 2).max(1).to_string()),
        (
            "idle_in_transaction_session_timeout",
            (ms * 4).max(10_000).to_string(),
        ),
        ("tcp_keepalives_idle", "10".to_owned()),
        ("tcp_keepalives_interval", "5".to_owned()),
        ("tcp_keepalives_count", "3".to_owned()),
    ]
}

/// Options ready to connect: the per-connection settings sent at connection start, or left for
/// after connecting behind PgBouncer, which refuses every startup parameter it does not track
/// (sqlx's `extra_float_digits` too).
fn finished(base: &PgConnectOptions, pgbouncer: bool, deadline: Duration) -> PgConnectOptions {
    if pgbouncer {
        base.clone().extra_float_digits(None::<i8>)
    } else {
        base.clone().options(session_values(deadline))
    }
}

/// `host:port,host:port` of a host list, as shown and as the outbox names its server.
fn host_ports(hosts: &[PgConnectOptions]) -> String {
    hosts
        .iter()
        .map(|h| match h.get_socket() {
            Some(socket) => socket.display().to_string(),
            None => format!("{}:{}", h.get_host(), h.get_port()),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// This computer's name, for `application_name`.
pub fn host_name() -> String {
    let from_env = std::env::var("COMPUTERNAME").or_else(|_| std::env::var("HOSTNAME"));
    let name = from_env
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    name.unwrap_or_else(|| "unknown-host".into())
}

/// The config file's settings; a missing file is an empty one.
pub(crate) fn read_config_file(path: &Path) -> Result<ConfigFile, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ConfigFile::default()),
        Err(e) => {
            return Err(ConfigError::Unreadable {
                path: path.to_owned(),
                reason: e.to_string(),
            })
        }
    };
    toml::from_str(&text).map_err(|e| ConfigError::BadFile {
        path: path.to_owned(),
        // toml's message quotes the offending line, which could be the URL: keep only the first line.
        reason: e
            .message()
            .lines()
            .next()
            .unwrap_or("syntax error")
            .to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_wins_and_password_is_never_shown() {
        let config = DatabaseConfig::resolve(
            Some("postgres://alice:s3cret-pw@db.plant:6543/mes".into()),
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.target().display, "alice@db.plant:6543/mes");
        assert_eq!(config.target().source, ConfigSource::Environment);
        assert!(!format!("{config:?}").contains("s3cret"));
    }

    #[test]
    fn a_host_list_gives_each_server_its_own_options() {
        let config = DatabaseConfig::resolve(
            Some("postgres://alice:s3cret-pw@db1.plant:5432,db2.plant:5433/mes".into()),
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let hosts: Vec<(String, u16)> = config
            .hosts()
            .iter()
            .map(|h| (h.get_host().to_owned(), h.get_port()))
            .collect();
        assert_eq!(
            hosts,
            [("db1.plant".into(), 5432), ("db2.plant".into(), 5433)]
        );
        assert_eq!(
            config.target().display,
            "alice@db1.plant:5432,db2.plant:5433/mes"
        );
        assert_eq!(config.configured_server(), "db1.plant:5432,db2.plant:5433");
        // The user and the URL's parameters are read from the list's URL too.
        assert!(config.names_user());
        let with_ca = DatabaseConfig::resolve(
            Some(
                "postgres://alice@db1.plant:5432,db2.plant:5433/mes?sslrootcert=/etc/ca.pem".into(),
            ),
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            with_ca.settings().sslrootcert.as_deref(),
            Some("/etc/ca.pem")
        );
        // Each remote host is held to verified TLS under its own name; the same user for all.
        for host in config.hosts() {
            assert!(matches!(host.get_ssl_mode(), PgSslMode::VerifyFull));
            assert_eq!(host.get_username(), "alice");
        }
        // Another user signs in to the same list.
        let bob = config
            .for_user("bob", Some("pw"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(bob.hosts().len(), 2);
        assert!(bob.hosts().iter().all(|h| h.get_username() == "bob"));
        // The connection screen shows the list and makes the same list again.
        let settings = config.settings();
        assert_eq!(settings.host, "db1.plant:5432,db2.plant:5433");
        let again = DatabaseConfig::from_settings(&settings, Some("alice"), None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again.configured_server(), config.configured_server());
        // A malformed list is refused like any bad URL, without echoing it.
        let bad = DatabaseConfig::resolve(Some("postgres://a:pw@db1,,db2/mes".into()), None);
        assert!(matches!(bad, Err(ConfigError::BadUrl { .. })));
    }

    #[test]
    fn a_remote_host_gets_verified_tls_unless_insecure_is_allowed() {
        let remote =
            DatabaseConfig::resolve(Some("postgres://a:pw@db.plant:5432/mes".into()), None)
                .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            remote.options().get_ssl_mode(),
            PgSslMode::VerifyFull
        ));
        assert!(!remote.target().insecure);

        let plain = "postgres://a:pw@db.plant:5432/mes?sslmode=disable";
        let refused = DatabaseConfig::resolve(Some(plain.into()), None).unwrap_err();
        assert!(
            refused.to_string().contains("allow_insecure = true"),
            "{refused}"
        );
        assert!(!refused.to_string().contains("pw@"), "{refused}");

        let dir = std::env::temp_dir().join(format!("mes-tls-config-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join(CONFIG_FILE_NAME);
        let _ = std::fs::write(
            &path,
            "allow_insecure = true\nsslrootcert = \"/etc/plant/ca.pem\"\n",
        );
        let allowed = DatabaseConfig::resolve(Some(plain.into()), Some(&path))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(allowed.target().insecure, "the window warns");
        let _ = std::fs::remove_dir_all(&dir);

        // However the mode is spelled, the one sqlx would use decides.
        for sneaky in [
            "postgres://a:pw@db.plant/mes?sslmode=verify-full&sslmode=disable",
            "postgres://a:pw@db.plant/mes?sslmode=verify-full&ssl-mode=require",
            "postgres://a:pw@db.plant/mes?sslmode=verify-ca",
            "postgres://a:pw@127.db.plant/mes?sslmode=disable",
        ] {
            assert!(
                DatabaseConfig::resolve(Some(sneaky.into()), None).is_err(),
                "{sneaky}"
            );
        }

        for local in [
            "postgres://a:pw@127.0.0.1:5432/mes",
            "postgres://a:pw@localhost/mes",
            "postgres://a:pw@[::1]:5432/mes",
        ] {
            let config =
                DatabaseConfig::resolve(Some(local.into()), None).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                matches!(config.options().get_ssl_mode(), PgSslMode::Prefer),
                "{local}"
            );
            assert!(!config.target().insecure);
        }
    }

    #[test]
    fn bad_url_error_does_not_echo_it() {
        let err = DatabaseConfig::resolve(Some("mysql://bob:hunter22@x".into()), None).unwrap_err();
        assert!(!err.to_string().contains("hunter22"), "{err}");
    }

    #[test]
    fn config_file_is_used_when_no_environment() {
        let dir = std::env::temp_dir().join(format!("mes-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_default();
        let path = dir.join(CONFIG_FILE_NAME);
        std::fs::write(
            &path,
            "database_url = \"postgres://carol:pw@filehost/plant\"\n",
        )
        .unwrap_or_default();
        let config = DatabaseConfig::resolve(None, Some(&path)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.target().display, "carol@filehost:5432/plant");
        assert_eq!(config.target().source, ConfigSource::ConfigFile);
        std::fs::write(&path, "database_url = [\"secretpw\"\n").unwrap_or_default();
        let err = DatabaseConfig::resolve(None, Some(&path)).unwrap_err();
        assert!(!err.to_string().contains("secretpw"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
