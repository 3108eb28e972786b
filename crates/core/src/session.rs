//! Who is working: each database user on this PC has an outbox of their own, so offline writes
//! carry the user who made them and are replayed as that user only. Another user's pending writes
//! stay where they are (and are shown) until that user signs in again.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::DatabaseConfig;

/// The outbox of app versions before sign-in: adopted by the first session, which is the
/// configured user's (the one those versions wrote as).
pub const LEGACY_OUTBOX: &str = "outbox.sqlite3";

/// Writes waiting in another user's outbox on this PC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct WaitingWrites {
    /// "user@database".
    pub owner: String,
    pub pending: i64,
}

/// Whose writes an outbox holds: the user and the database they go to ("alice@mes"). Not the
/// host: a database reached through another name or address (a new server name, a failover
/// address) is the same database, and its pending writes must still reach it.
pub fn owner(config: &DatabaseConfig) -> String {
    let options = config.options();
    format!(
        "{}@{}",
        options.get_username(),
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
/// `path` does not exist yet. Its SQLite companions (`-wal`, `-shm`) move with it; the
/// fleet copy beside it is remade from the server.
pub fn adopt_legacy_outbox(data_dir: &Path, path: &Path) -> std::io::Result<bool> {
    let legacy = data_dir.join(LEGACY_OUTBOX);
    if !legacy.exists() || path.exists() {
        return Ok(false);
    }
    for suffix in ["-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", legacy.display()));
        if from.exists() {
            std::fs::rename(&from, format!("{}{suffix}", path.display()))?;
        }
    }
    std::fs::rename(&legacy, path)?;
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

/// FNV-1a, 64 bits: stable across Rust versions and platforms (std's hasher is not).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
