//! Who is working: each database user on this PC has an outbox of their own, so offline writes
//! carry the user who made them and are replayed as that user only. Another user's pending writes
//! stay where they are (and are shown) until that user signs in again.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::DatabaseConfig;
use crate::RegistryError;

/// The outbox of app versions before sign-in: adopted by the first session, which is the
/// configured user's (the one those versions wrote as).
pub const LEGACY_OUTBOX: &str = "outbox.sqlite3";

/// Writes waiting in another user's outbox on this PC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct WaitingWrites {
    /// "user@host:port/database".
    pub owner: String,
    pub pending: i64,
}

/// Whose writes an outbox holds: the user and the server and database they go to
/// ("alice@db.plant:5432/mes"), the server as configured (see
/// [`DatabaseConfig::configured_server`]). With the server in it, settings that point elsewhere
/// (another server with a database of the same name, a test copy) never receive this outbox's
/// writes, nor the password remembered for it: they stay, shown as waiting, until the settings
/// point back.
pub fn owner(config: &DatabaseConfig) -> String {
    let options = config.options();
    format!(
        "{}@{}/{}",
        options.get_username(),
        config.configured_server(),
        options.get_database().unwrap_or(options.get_username())
    )
}

/// The outbox file for `config`'s user and database, in `data_dir`. The name shows the user
/// (for an administrator looking at the folder) and a stable hash of the whole owner (so two
/// databases never share one).
pub fn outbox_path(data_dir: &Path, config: &DatabaseConfig) -> PathBuf {
    let owner = owner(config);
    let readable: String = config
        .user()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    data_dir.join(format!(
        "outbox-{readable}-{:016x}.sqlite3",
        fnv1a(owner.as_bytes())
    ))
}

/// Moves the outbox of an earlier version (one file for everyone) to `path`, once, when
/// `path` does not exist yet. It is opened first (taking its lock, so no other process uses it),
/// its log checkpointed into the file and closed, then the file alone is renamed: a crash at any
/// point leaves either the old outbox whole or the new one. The fleet copy beside it is a cache,
/// remade from the server.
pub async fn adopt_legacy_outbox(data_dir: &Path, path: &Path) -> Result<bool, RegistryError> {
    let legacy = data_dir.join(LEGACY_OUTBOX);
    if !legacy.exists() || path.exists() {
        return Ok(false);
    }
    let outbox = crate::sync::Outbox::open(&legacy).await?;
    let checkpointed = outbox.checkpoint().await;
    outbox.close().await;
    checkpointed?;
    let moved = |e: std::io::Error| RegistryError::Internal(format!("moving the old outbox: {e}"));
    std::fs::rename(&legacy, path).map_err(moved)?;
    for leftover in [
        "outbox.sqlite3-wal",
        "outbox.sqlite3-shm",
        "outbox.sqlite3.lock",
        // The fleet copy is a cache, remade from the server for the new outbox.
        "outbox-cache.sqlite3",
        "outbox-cache.sqlite3-wal",
        "outbox-cache.sqlite3-shm",
    ] {
        let file = data_dir.join(leftover);
        if file.exists() {
            let _ = std::fs::remove_file(file);
        }
    }
    tracing::info!(to = %path.display(), "adopted the outbox of an earlier version");
    Ok(true)
}

/// Other users' outboxes in `data_dir` that still hold writes.
pub async fn waiting_elsewhere(data_dir: &Path, current: &Path) -> Vec<WaitingWrites> {
    let Ok(entries) = std::fs::read_dir(data_dir) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_outbox = (name.starts_with("outbox-")
            && name.ends_with(".sqlite3")
            && !name.ends_with("-cache.sqlite3"))
            || name == LEGACY_OUTBOX;
        if !is_outbox || path == current {
            continue;
        }
        if let Some((owner, pending)) = crate::sync::Outbox::peek(&path).await {
            if pending > 0 {
                found.push(WaitingWrites { owner, pending });
            }
        }
    }
    found.sort_by(|a, b| a.owner.cmp(&b.owner));
    found
}

/// Stored for a user whose sign-in needed no password (peer, `.pgpass`): offline, only an
/// empty password matches it. Such a login is the OS account's, which this app runs as.
const NO_PASSWORD: &str = "none";
/// An offline sign-in is checked against the last one the server accepted, if not older than
/// this: a password changed (or leaked) since is not honoured offline for ever.
pub const VERIFIER_LIFETIME: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);
/// PBKDF2-HMAC-SHA256 rounds (OWASP's 2021 figure): a stolen outbox file costs an attacker
/// about that many hashes per guess.
const ROUNDS: u32 = 310_000;

/// What is kept, in a user's own outbox, to check their password offline: made at each sign-in
/// the server accepted, never the password itself.
pub fn verifier(password: Option<&str>) -> String {
    let Some(password) = password.filter(|p| !p.is_empty()) else {
        return NO_PASSWORD.to_owned();
    };
    let salt = [
        uuid::Uuid::new_v4().into_bytes(),
        uuid::Uuid::new_v4().into_bytes(),
    ]
    .concat();
    format!(
        "pbkdf2-sha256${ROUNDS}${}${}${}",
        hex(&salt),
        hex(&derive(password, &salt, ROUNDS)),
        unix_now()
    )
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Whether `password` matches a verifier made by [`verifier`] (in constant time).
pub fn verifies(verifier: &str, password: Option<&str>) -> bool {
    let password = password.filter(|p| !p.is_empty());
    if verifier == NO_PASSWORD {
        return password.is_none();
    }
    let mut parts = verifier.split('$');
    let (Some("pbkdf2-sha256"), Some(rounds), Some(salt), Some(hash), Some(made), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let fresh = made
        .parse::<u64>()
        .is_ok_and(|made| unix_now().saturating_sub(made) <= VERIFIER_LIFETIME.as_secs());
    if !fresh {
        return false;
    }
    let (Ok(rounds), Some(salt), Some(password)) = (rounds.parse::<u32>(), unhex(salt), password)
    else {
        return false;
    };
    let derived = hex(&derive(password, &salt, rounds.clamp(1, 10_000_000)));
    derived.len() == hash.len()
        && derived
            .bytes()
            .zip(hash.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

fn derive(password: &str, salt: &[u8], rounds: u32) -> [u8; 32] {
    pbkdf2::pbkdf2_hmac_array::<sha2::Sha256, 32>(password.as_bytes(), salt, rounds)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect()
}

/// FNV-1a, 64 bits: stable across Rust versions and platforms (std's hasher is not).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verifier_accepts_its_password_only() {
        let started = std::time::Instant::now();
        let made = verifier(Some("s3cret pass"));
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert!(!made.contains("s3cret"));
        assert!(verifies(&made, Some("s3cret pass")));
        assert!(!verifies(&made, Some("s3cret pasS")));
        assert!(!verifies(&made, None));
        assert_ne!(made, verifier(Some("s3cret pass")), "salted");
        let none = verifier(None);
        assert!(verifies(&none, None));
        assert!(verifies(&none, Some("")));
        assert!(!verifies(&none, Some("anything")));
        assert!(!verifies("garbage", Some("x")));
        assert!(!verifies("pbkdf2-sha256$1$zz$00$0", Some("x")));
        // Past its lifetime a check no longer lets anyone in.
        let mut parts: Vec<&str> = made.split('$').collect();
        parts[4] = "1000";
        assert!(!verifies(&parts.join("$"), Some("s3cret pass")));
    }
}
