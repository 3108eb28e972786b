//! Writing `config.toml` (the connection screen, the signed-in user) and what is wrong with it
//! (a password in it, readable by others). Written whole to a temporary file, restricted to its
//! user, then renamed over the old one: a crash leaves the old file or the new, never half.

use std::path::{Path, PathBuf};

use crate::config::{ConfigError, ConfigFile, ConnectionSettings};

/// Saves where the database is. The user's other settings (deadline, user) are kept; a
/// `database_url` is replaced by the parts (it may have held a password, which is dropped).
pub fn save_settings(path: &Path, settings: &ConnectionSettings) -> Result<(), ConfigError> {
    let mut file = read(path)?;
    if file.database_url.take().is_some() {
        tracing::info!(path = %path.display(), "database_url replaced by host, port and database from the connection screen");
    }
    file.host = Some(settings.host.trim().to_owned()).filter(|h| !h.is_empty());
    file.port = Some(settings.port);
    file.database = Some(settings.database.trim().to_owned()).filter(|d| !d.is_empty());
    file.sslrootcert = settings
        .sslrootcert
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from);
    file.allow_insecure = Some(settings.allow_insecure).filter(|allowed| *allowed);
    file.pgbouncer = Some(settings.pgbouncer).filter(|through| *through);
    write(path, &file)
}

/// Remembers the signed-in user (or forgets it, at sign-out). Never a password.
pub fn save_user(path: &Path, user: Option<&str>) -> Result<(), ConfigError> {
    let mut file = read(path)?;
    if file.user.as_deref() == user {
        return Ok(());
    }
    file.user = user.map(str::to_owned);
    write(path, &file)
}

/// Whether anything says where the database is: `MES_DATABASE_URL`, a config file, or
/// PostgreSQL's own `PGHOST`/`PGHOSTADDR`/`PGDATABASE`. If not, the window asks (first run).
pub fn is_configured(path: &Path) -> bool {
    let set = |var: &str| std::env::var(var).is_ok_and(|v| !v.trim().is_empty());
    set(crate::config::DATABASE_URL_VAR)
        || set("PGHOST")
        || set("PGHOSTADDR")
        || set("PGDATABASE")
        || path.exists()
}

/// What the window and the log warn about: a password kept in the file, or a file others may
/// read.
pub fn warnings(path: &Path) -> Vec<String> {
    let mut found = Vec::new();
    if let Ok(file) = read(path) {
        let password_in_url = file
            .database_url
            .as_deref()
            .and_then(|u| url::Url::parse(u.trim()).ok())
            .is_some_and(|u| {
                u.password().is_some() || u.query_pairs().any(|(k, _)| k == "password")
            });
        if password_in_url {
            found.push(format!(
                "{} holds a database password in plain text: remove it from database_url and sign in instead (\"Remember me\" keeps it in the OS keyring)",
                path.display()
            ));
        }
    }
    if readable_by_others(path) {
        found.push(format!(
            "{} can be read by other users of this PC: run chmod 600 on it",
            path.display()
        ));
    }
    found
}

#[cfg(unix)]
fn readable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
}

#[cfg(not(unix))]
fn readable_by_others(_path: &Path) -> bool {
    false
}

fn read(path: &Path) -> Result<ConfigFile, ConfigError> {
    crate::config::read_config_file(path)
}

fn write(path: &Path, file: &ConfigFile) -> Result<(), ConfigError> {
    let unwritable = |e: std::io::Error| ConfigError::Unreadable {
        path: path.to_owned(),
        reason: format!("cannot write it: {e}"),
    };
    let text = toml::to_string(file).map_err(|e| ConfigError::BadFile {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    if let Some(dir) = path.parent() {
        crate::private::create_private_dir(dir).map_err(unwritable)?;
    }
    // A fresh file, never an existing one (nor a link planted in its place), readable by its
    // user only from its creation, on disk before it replaces the old one.
    let temporary = path.with_extension(format!("toml.{}.new", uuid::Uuid::new_v4().simple()));
    let written = (|| {
        let mut out = create_private_file(&temporary)?;
        use std::io::Write as _;
        out.write_all(b"# MES Machine Manager settings (written by the app; see README)\n")?;
        out.write_all(text.as_bytes())?;
        out.sync_all()
    })();
    if let Err(e) = written.and_then(|()| std::fs::rename(&temporary, path)) {
        let _ = std::fs::remove_file(&temporary);
        return Err(unwritable(e));
    }
    Ok(())
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_saved_without_a_password_and_read_back() {
        let dir = std::env::temp_dir().join(format!("mes-settings-{}", std::process::id()));
        let path = dir.join("config.toml");
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(
            &path,
            "database_url = \"postgres://alice:hunter2@old/plant\"\ndeadline_seconds = 7\n",
        );
        assert_eq!(warnings(&path).len(), 2, "{:?}", warnings(&path));
        let settings = ConnectionSettings {
            host: "db.plant".into(),
            port: 6543,
            database: "mes".into(),
            sslrootcert: Some("/etc/plant/ca.pem".into()),
            allow_insecure: false,
            pgbouncer: false,
        };
        save_settings(&path, &settings).unwrap_or_else(|e| panic!("{e}"));
        save_user(&path, Some("bob")).unwrap_or_else(|e| panic!("{e}"));
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(warnings(&path).is_empty(), "{:?}", warnings(&path));
        let config =
            crate::DatabaseConfig::resolve(None, Some(&path)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.target().display, "bob@db.plant:6543/mes");
        assert_eq!(config.deadline().as_secs(), 7);
        assert_eq!(config.settings(), settings);
        let carol = config
            .for_user("carol", Some("pw"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(carol.target().display, "carol@db.plant:6543/mes");
        assert_eq!(carol.deadline().as_secs(), 7);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_replicated_database_behind_pgbouncer_is_saved_and_read_back() {
        let dir = std::env::temp_dir().join(format!("mes-settings-pb-{}", std::process::id()));
        let path = dir.join("config.toml");
        let _ = std::fs::create_dir_all(&dir);
        let settings = ConnectionSettings {
            host: "db1.plant:5432,db2.plant:5433".into(),
            port: 5432,
            database: "mes".into(),
            sslrootcert: None,
            allow_insecure: false,
            pgbouncer: true,
        };
        save_settings(&path, &settings).unwrap_or_else(|e| panic!("{e}"));
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(text.contains("pgbouncer = true"), "{text}");
        let config =
            crate::DatabaseConfig::resolve(None, Some(&path)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.hosts().len(), 2);
        assert_eq!(config.settings(), settings);
        // Behind PgBouncer nothing is sent at connection start; the settings come after.
        assert!(config.settings_to_set().is_some());
        let signed_in = config
            .for_user("alice", Some("pw"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(signed_in.settings_to_set().is_some());
        assert_eq!(signed_in.hosts().len(), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn query_credentials_never_follow_another_user() {
        for url in [
            "postgres://127.0.0.1/mes?user=svc&password=svcpw",
            "postgres://alice@127.0.0.1/mes?password=svcpw",
            "postgres://alice:svcpw@127.0.0.1/mes?sslmode=require",
        ] {
            let config = crate::DatabaseConfig::resolve(Some(url.into()), None)
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(config.has_password(), "{url}");
            let bob = config
                .for_user("bob", None)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(bob.user(), "bob", "{url}");
            assert!(!bob.has_password(), "{url}");
            assert!(!format!("{:?}", bob.options()).contains("svcpw"), "{url}");
            let carol = config
                .for_user("carol", Some("carolpw"))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(carol.user(), "carol", "{url}");
            assert!(
                format!("{:?}", carol.options()).contains("carolpw"),
                "{url}"
            );
        }
    }

    #[test]
    fn another_user_never_gets_the_urls_password() {
        let config = crate::DatabaseConfig::resolve(
            Some("postgres://alice:hunter2@127.0.0.1/plant".into()),
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(config.has_password());
        let alice = config
            .for_user("alice", None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(alice.target().display, "alice@127.0.0.1:5432/plant");
        let bob = config
            .for_user("bob", None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(bob.target().display, "bob@127.0.0.1:5432/plant");
        assert!(!format!("{:?}", bob.options()).contains("hunter2"));
    }
}
