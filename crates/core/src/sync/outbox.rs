use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::Connection as _;
use sqlx::{Row, Sqlite, Transaction};
use uuid::Uuid;

use super::{Hooks, QueuedWrite};
use crate::domain::Machine;
use crate::error::{FieldError, RegistryError};

/// Why a queued write could not be applied, with the server's side where there is one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Conflict {
    /// Another machine took the name meanwhile.
    NameTaken { name: String },
    /// Someone else changed the machine since this write's version; `current` is theirs.
    ChangedSince { expected: i64, current: Machine },
    /// The machine was deleted meanwhile.
    MachineDeleted,
    /// The write breaks a rule (checked again at replay).
    Invalid { fields: Vec<FieldError> },
    /// The server refused it for a reason of its own (a permission, a rule another tool added),
    /// in the app's words.
    Refused { explanation: String },
}

/// What queueing a write did to the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Enqueued {
    /// A new entry at the end of the queue.
    Appended,
    /// Merged into the machine's unsent write `into` (an edit of a machine created offline
    /// stays one create).
    FoldedInto { into: Uuid },
    /// Appended, replacing the machine's unsent writes `dropped` (a delete supersedes them).
    Superseded { dropped: Vec<Uuid> },
    /// A delete of a machine created offline and never sent: the create and every unsent write
    /// of it (`dropped`) are gone, and nothing is sent at all.
    Cancelled { dropped: Vec<Uuid> },
}

/// One row of the outbox: a pending write, or one that needs attention (`conflict` is set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct OutboxEntry {
    /// Order of entry: writes replay in this order.
    pub seq: i64,
    pub write: QueuedWrite,
    /// 0 until replay first sends it; from then on it may be recorded on the server, so it is
    /// never folded into. (Replay does not count later sends: that would cost a disk flush.)
    pub attempts: i64,
    pub queued_at: DateTime<Utc>,
    pub conflict: Option<Conflict>,
}

/// The durable local queue. Every change is one SQLite transaction with a full sync, so a write
/// acknowledged as "saved — pending sync" survives a crash or a power cut.
///
/// It also keeps the PC's write order: a write is sent online, or queued, only while holding
/// [`Outbox::write_order`], and only when no write is pending (a batch out for replay still
/// counts as pending until it is removed), so an online write never overtakes a queued one, and a
/// write made while an online write is under way waits for it (and goes behind it if that one
/// ends up queued).
pub struct Outbox {
    pub(super) pool: SqlitePool,
    /// This outbox's identity on the server (`applied_writes.client_id`).
    client_id: Uuid,
    write_order: tokio::sync::Mutex<()>,
    /// Held exclusively while the outbox is open: two processes never replay one outbox.
    lock: std::fs::File,
    pub(super) hooks: Hooks,
    /// The copies kept for offline reading (the last page seen, the fleet), in a file of their
    /// own: they are caches, rebuilt from the server, so they skip the disk flush per change
    /// (a crash of the app still keeps them; a power cut may lose the last few), and their
    /// writes never queue in front of an operator's write.
    pub(super) cache: SqlitePool,
    /// Moves on with every change to the fleet copy, so a copy held in memory knows it is old.
    pub(super) fleet_generation: std::sync::atomic::AtomicU64,
}

/// `outbox.sqlite3` → `outbox-cache.sqlite3`, beside it.
fn cache_path(outbox: &Path) -> std::path::PathBuf {
    let stem = outbox
        .file_stem()
        .map_or_else(|| "outbox".into(), |s| s.to_string_lossy());
    outbox.with_file_name(format!("{stem}-cache.sqlite3"))
}

pub(super) fn local(err: impl std::fmt::Display) -> RegistryError {
    RegistryError::Internal(format!("local outbox: {err}"))
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    write_id TEXT NOT NULL UNIQUE,
    machine_uid TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    queued_at TEXT NOT NULL,
    conflict TEXT
);
CREATE INDEX IF NOT EXISTS outbox_machine ON outbox (machine_uid);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

const CACHE_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS cache (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    saved_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS fleet (
    uid TEXT PRIMARY KEY,
    machine TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    machine_uid TEXT NOT NULL,
    machine_name TEXT NOT NULL,
    message TEXT NOT NULL,
    at TEXT NOT NULL,
    by TEXT,
    read INTEGER NOT NULL DEFAULT 0
);
";

impl Outbox {
    /// Opens (creating if needed) the outbox file, and locks it for this process: a second
    /// process opening the same outbox is refused with [`OUTBOX_IN_USE`].
    pub async fn open(path: &Path) -> Result<Self, RegistryError> {
        if let Some(dir) = path.parent() {
            // The outbox holds the plant's pending changes: for this user's eyes only. A folder
            // made here is restricted; an existing one (say a shared temporary folder) is not
            // ours to change, the files are.
            crate::private::create_private_dir(dir).map_err(local)?;
        }
        let lock = lock_exclusively(path)?;
        // A path, never a URL: a folder name with '?' or '#' must not become URL syntax.
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before `enqueue` returns, WAL or not.
            .synchronous(SqliteSynchronous::Full);
        // One connection: enqueue's read-modify-write (coalescing) must not interleave.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(local)?;
        sqlx::raw_sql(SCHEMA).execute(&pool).await.map_err(local)?;
        let cache_path = cache_path(path);
        let cache_options = SqliteConnectOptions::new()
            .filename(&cache_path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal);
        let cache = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(cache_options)
            .await
            .map_err(local)?;
        sqlx::raw_sql(CACHE_SCHEMA)
            .execute(&cache)
            .await
            .map_err(local)?;
        let client_id = client_id(&pool).await?;
        for file in [path.to_path_buf(), cache_path] {
            crate::private::restrict_file(&file).map_err(local)?;
        }
        Ok(Self {
            pool,
            client_id,
            write_order: tokio::sync::Mutex::new(()),
            lock,
            hooks: Hooks::default(),
            cache,
            fleet_generation: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Names whose writes this outbox holds ("user@host:port/database"), once; an outbox that
    /// already belongs to someone else is refused, so no write is ever sent under another name.
    pub async fn claim(&self, owner: &str) -> Result<(), RegistryError> {
        sqlx::query("INSERT OR IGNORE INTO meta (key, value) VALUES ('owner', ?)")
            .bind(owner)
            .execute(&self.pool)
            .await
            .map_err(local)?;
        let recorded: String = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'owner'")
            .fetch_one(&self.pool)
            .await
            .map_err(local)?;
        if recorded == owner {
            Ok(())
        } else {
            Err(RegistryError::Internal(format!(
                "local outbox holds the writes of {recorded}, not of {owner}"
            )))
        }
    }

    /// Keeps the check of this user's password for an offline sign-in (see
    /// `session::verifier`), replacing the previous one.
    pub async fn set_verifier(&self, verifier: &str) -> Result<(), RegistryError> {
        sqlx::query("INSERT OR REPLACE INTO meta (key, value) VALUES ('verifier', ?)")
            .bind(verifier)
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(local)
    }

    /// The password check kept in the outbox at `path`, read without locking or changing it;
    /// `None` when there is no such outbox or its user never signed in online here.
    pub async fn recorded_verifier(path: &Path) -> Option<String> {
        if !path.exists() {
            return None;
        }
        let options = SqliteConnectOptions::new().filename(path).read_only(true);
        let mut conn = sqlx::SqliteConnection::connect_with(&options).await.ok()?;
        let verifier = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'verifier'")
            .fetch_optional(&mut conn)
            .await
            .ok()
            .flatten();
        let _ = conn.close().await;
        verifier
    }

    /// Moves every committed change from the write-ahead log into the file itself and empties
    /// the log (before the file is moved or copied).
    pub async fn checkpoint(&self) -> Result<(), RegistryError> {
        let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&self.pool)
            .await
            .map_err(local)?;
        if busy == 0 {
            Ok(())
        } else {
            Err(RegistryError::Internal(
                "local outbox: its log could not be written into the file (busy)".into(),
            ))
        }
    }

    /// Whose writes the outbox at `path` holds and how many wait, read without locking or
    /// changing it (another user's outbox, shown in the window). `None` when it is not an
    /// outbox or cannot be read.
    pub async fn peek(path: &Path) -> Option<(String, i64)> {
        let options = SqliteConnectOptions::new().filename(path).read_only(true);
        let mut conn = sqlx::SqliteConnection::connect_with(&options).await.ok()?;
        let owner: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'owner'")
                .fetch_optional(&mut conn)
                .await
                .ok()?;
        let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
            .fetch_one(&mut conn)
            .await
            .ok()?;
        let _ = conn.close().await;
        Some((
            owner.unwrap_or_else(|| "an earlier version of the app".into()),
            pending,
        ))
    }

    /// Closes the files and releases the lock through a shared handle (a session ending while
    /// other tasks may still hold the outbox): their later calls fail instead of writing.
    pub async fn shutdown(&self) {
        self.pool.close().await;
        self.cache.close().await;
        if let Err(e) = self.lock.unlock() {
            tracing::warn!(error = %e, "could not release the outbox lock");
        }
    }

    /// Closes the files and releases the lock (a new `open` of the same path may follow).
    pub async fn close(self) {
        self.pool.close().await;
        self.cache.close().await;
    }

    /// This outbox's identity on the server: its writes never conflict with each other.
    pub fn client_id(&self) -> Uuid {
        self.client_id
    }

    /// The PC's write order (see the type's documentation).
    pub async fn write_order(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.write_order.lock().await
    }

    /// Pause and failure points for tests (inert unless armed).
    pub fn hooks(&self) -> &Hooks {
        &self.hooks
    }

    /// Queues a write durably. Writes on a machine whose earlier queued writes were never sent
    /// are folded into them (an offline edit of an offline-created machine stays one create), so
    /// replay never depends on versions that do not exist yet. Writes already sent are never
    /// changed: their `write_id` may be recorded on the server.
    pub async fn enqueue(&self, write: QueuedWrite) -> Result<Enqueued, RegistryError> {
        let mut tx = self.pool.begin().await.map_err(local)?;
        if let QueuedWrite::Delete(_) = write {
            if let Some(cancelled) = cancel_refused_create(&mut tx, write.machine_uid()).await? {
                tx.commit().await.map_err(local)?;
                return Ok(cancelled);
            }
        }
        let unsent = unsent_for_machine(&mut tx, write.machine_uid()).await?;
        let id_of = |seq: i64| {
            unsent
                .iter()
                .find(|(s, _)| *s == seq)
                .map(|(_, w)| w.write_id())
        };
        let enqueued = match fold(&unsent, &write) {
            Fold::Into { seq, write: merged } => {
                let folded = sqlx::query(
                    "UPDATE outbox SET payload = ?, kind = ? WHERE seq = ? AND attempts = 0",
                )
                .bind(to_json(&merged)?)
                .bind(merged.kind())
                .bind(seq)
                .execute(&mut *tx)
                .await
                .map_err(local)?
                .rows_affected();
                if folded != 1 {
                    return Err(local("the unsent write to fold into is gone"));
                }
                Enqueued::FoldedInto {
                    into: merged.write_id(),
                }
            }
            Fold::Cancel => {
                sqlx::query("DELETE FROM outbox WHERE machine_uid = ? AND attempts = 0 AND conflict IS NULL")
                    .bind(write.machine_uid().to_string())
                    .execute(&mut *tx)
                    .await
                    .map_err(local)?;
                Enqueued::Cancelled {
                    dropped: unsent.iter().map(|(_, w)| w.write_id()).collect(),
                }
            }
            Fold::Append { drop_seqs, write } => {
                let dropped: Vec<Uuid> = drop_seqs.iter().filter_map(|s| id_of(*s)).collect();
                for seq in drop_seqs {
                    sqlx::query("DELETE FROM outbox WHERE seq = ? AND attempts = 0")
                        .bind(seq)
                        .execute(&mut *tx)
                        .await
                        .map_err(local)?;
                }
                insert(&mut tx, &write, 0).await?;
                if dropped.is_empty() {
                    Enqueued::Appended
                } else {
                    Enqueued::Superseded { dropped }
                }
            }
        };
        tx.commit().await.map_err(local)?;
        Ok(enqueued)
    }

    /// Queues a write that may already be recorded on the server (its online attempt got no
    /// answer): it counts as sent, so nothing is ever folded into it, and replay recognises it
    /// if it did land.
    pub async fn enqueue_sent(&self, write: QueuedWrite) -> Result<(), RegistryError> {
        let mut tx = self.pool.begin().await.map_err(local)?;
        insert(&mut tx, &write, 1).await?;
        tx.commit().await.map_err(local)
    }

    /// The oldest pending writes, up to `limit`, marked as sent in the same transaction: from
    /// the moment replay holds them, nothing is folded into them, even if it never gets further.
    pub async fn take(&self, limit: i64) -> Result<Vec<OutboxEntry>, RegistryError> {
        let mut tx = self.pool.begin().await.map_err(local)?;
        let rows = sqlx::query(
            "SELECT seq, payload, attempts, queued_at, conflict FROM outbox
             WHERE conflict IS NULL ORDER BY seq LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&mut *tx)
        .await
        .map_err(local)?;
        let mut entries = rows
            .iter()
            .map(entry_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let unsent: Vec<i64> = entries
            .iter()
            .filter(|e| e.attempts == 0)
            .map(|e| e.seq)
            .collect();
        if !unsent.is_empty() {
            sqlx::query(
                "UPDATE outbox SET attempts = 1 WHERE seq IN (SELECT value FROM json_each(?))",
            )
            .bind(serde_json::to_string(&unsent).map_err(local)?)
            .execute(&mut *tx)
            .await
            .map_err(local)?;
        }
        tx.commit().await.map_err(local)?;
        for entry in &mut entries {
            entry.attempts = entry.attempts.max(1);
        }
        Ok(entries)
    }

    /// The oldest pending writes (not those needing attention), up to `limit`.
    pub async fn pending(&self, limit: i64) -> Result<Vec<OutboxEntry>, RegistryError> {
        self.select("WHERE conflict IS NULL ORDER BY seq LIMIT ?", limit)
            .await
    }

    /// Writes that could not apply, oldest first.
    pub async fn needs_attention(&self) -> Result<Vec<OutboxEntry>, RegistryError> {
        self.select("WHERE conflict IS NOT NULL ORDER BY seq LIMIT ?", i64::MAX)
            .await
    }

    pub async fn pending_count(&self) -> Result<i64, RegistryError> {
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE conflict IS NULL")
            .fetch_one(&self.pool)
            .await
            .map_err(local)
    }

    /// Removes writes the server has committed.
    pub async fn remove(&self, seqs: &[i64]) -> Result<(), RegistryError> {
        self.each(
            seqs,
            "DELETE FROM outbox WHERE seq IN (SELECT value FROM json_each(?))",
        )
        .await
    }

    pub async fn set_conflict(&self, seq: i64, conflict: &Conflict) -> Result<(), RegistryError> {
        sqlx::query("UPDATE outbox SET conflict = ? WHERE seq = ?")
            .bind(serde_json::to_string(conflict).map_err(local)?)
            .bind(seq)
            .execute(&self.pool)
            .await
            .map_err(local)?;
        Ok(())
    }

    /// The operator gives up a write that needs attention. Pending writes cannot be discarded
    /// this way: only writes the operator has seen fail.
    pub async fn discard(&self, seq: i64) -> Result<bool, RegistryError> {
        let result = sqlx::query("DELETE FROM outbox WHERE seq = ? AND conflict IS NOT NULL")
            .bind(seq)
            .execute(&self.pool)
            .await
            .map_err(local)?;
        Ok(result.rows_affected() == 1)
    }

    /// The operator retries a write that needed attention, usually edited (for instance on top
    /// of the server's current version). It keeps its place in the order and gets a new
    /// `write_id`, since the old one might be recorded on the server.
    pub async fn retry(&self, seq: i64, write: QueuedWrite) -> Result<bool, RegistryError> {
        let result = sqlx::query(
            "UPDATE outbox SET payload = ?, kind = ?, write_id = ?, machine_uid = ?, attempts = 0, conflict = NULL
             WHERE seq = ? AND conflict IS NOT NULL",
        )
        .bind(to_json(&write)?)
        .bind(write.kind())
        .bind(write.write_id().to_string())
        .bind(write.machine_uid().to_string())
        .bind(seq)
        .execute(&self.pool)
        .await
        .map_err(local)?;
        Ok(result.rows_affected() == 1)
    }

    /// Keeps a JSON value (the last machine list seen) with the time it was current.
    pub async fn cache_put(&self, key: &str, value: &str) -> Result<(), RegistryError> {
        sqlx::query("INSERT OR REPLACE INTO cache (key, value, saved_at) VALUES (?, ?, ?)")
            .bind(key)
            .bind(value)
            .bind(Utc::now().to_rfc3339())
            .execute(&self.cache)
            .await
            .map_err(local)?;
        Ok(())
    }

    pub async fn cache_get(
        &self,
        key: &str,
    ) -> Result<Option<(String, DateTime<Utc>)>, RegistryError> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT value, saved_at FROM cache WHERE key = ?")
                .bind(key)
                .fetch_optional(&self.cache)
                .await
                .map_err(local)?;
        row.map(|(value, at)| {
            Ok((
                value,
                DateTime::parse_from_rfc3339(&at).map_err(local)?.to_utc(),
            ))
        })
        .transpose()
    }

    /// Runs `sql` once for all of `seqs`, passed as one JSON array: a batch is one statement
    /// and one synced commit, not one round trip to SQLite's thread per write.
    async fn each(&self, seqs: &[i64], sql: &str) -> Result<(), RegistryError> {
        sqlx::query(sql)
            .bind(serde_json::to_string(seqs).map_err(local)?)
            .execute(&self.pool)
            .await
            .map_err(local)?;
        Ok(())
    }

    async fn select(&self, tail: &str, limit: i64) -> Result<Vec<OutboxEntry>, RegistryError> {
        let sql = format!("SELECT seq, payload, attempts, queued_at, conflict FROM outbox {tail}");
        let rows = sqlx::query(&sql)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(local)?;
        rows.iter().map(entry_from_row).collect()
    }
}

fn entry_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<OutboxEntry, RegistryError> {
    let payload: String = row.try_get("payload").map_err(local)?;
    let queued_at: String = row.try_get("queued_at").map_err(local)?;
    let conflict: Option<String> = row.try_get("conflict").map_err(local)?;
    Ok(OutboxEntry {
        seq: row.try_get("seq").map_err(local)?,
        write: serde_json::from_str(&payload).map_err(local)?,
        attempts: row.try_get("attempts").map_err(local)?,
        queued_at: DateTime::parse_from_rfc3339(&queued_at)
            .map_err(local)?
            .to_utc(),
        conflict: conflict
            .map(|c| serde_json::from_str(&c))
            .transpose()
            .map_err(local)?,
    })
}

fn to_json(write: &QueuedWrite) -> Result<String, RegistryError> {
    serde_json::to_string(write).map_err(local)
}

/// The name of the error a second process gets when it opens an outbox in use.
pub const OUTBOX_IN_USE: &str = "is in use by another running MES Machine Manager";

/// Takes the outbox's lock file (`outbox.sqlite3.lock`) for this process. The operating system
/// releases it when the process ends, however it ends.
fn lock_exclusively(path: &Path) -> Result<std::fs::File, RegistryError> {
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(local)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(RegistryError::Internal(format!(
            "the local outbox {} {OUTBOX_IN_USE}",
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(local(e)),
    }
}

/// The outbox's client id, made once when the outbox is created.
async fn client_id(pool: &SqlitePool) -> Result<Uuid, RegistryError> {
    sqlx::query("INSERT OR IGNORE INTO meta (key, value) VALUES ('client_id', ?)")
        .bind(Uuid::new_v4().to_string())
        .execute(pool)
        .await
        .map_err(local)?;
    let id: String = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'client_id'")
        .fetch_one(pool)
        .await
        .map_err(local)?;
    Uuid::parse_str(&id).map_err(local)
}

async fn insert(
    tx: &mut Transaction<'_, Sqlite>,
    write: &QueuedWrite,
    attempts: i64,
) -> Result<(), RegistryError> {
    sqlx::query("INSERT INTO outbox (write_id, machine_uid, kind, payload, queued_at, attempts) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(write.write_id().to_string())
        .bind(write.machine_uid().to_string())
        .bind(write.kind())
        .bind(to_json(write)?)
        .bind(Utc::now().to_rfc3339())
        .bind(attempts)
        .execute(&mut **tx)
        .await
        .map_err(local)?;
    Ok(())
}

/// A delete of a machine whose create was refused (it needs attention, the machine never
/// existed on the server): the create and the machine's other unsent or refused writes are
/// dropped together with the delete, so a later retry cannot bring back a deleted machine.
async fn cancel_refused_create(
    tx: &mut Transaction<'_, Sqlite>,
    uid: Uuid,
) -> Result<Option<Enqueued>, RegistryError> {
    let refused: Option<i64> = sqlx::query_scalar(
        "SELECT seq FROM outbox WHERE machine_uid = ? AND kind = 'create' AND conflict IS NOT NULL",
    )
    .bind(uid.to_string())
    .fetch_optional(&mut **tx)
    .await
    .map_err(local)?;
    if refused.is_none() {
        return Ok(None);
    }
    let dropped: Vec<String> = sqlx::query_scalar(
        "DELETE FROM outbox WHERE machine_uid = ? AND (attempts = 0 OR conflict IS NOT NULL)
         RETURNING write_id",
    )
    .bind(uid.to_string())
    .fetch_all(&mut **tx)
    .await
    .map_err(local)?;
    let dropped = dropped
        .iter()
        .map(|id| Uuid::parse_str(id).map_err(local))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(Enqueued::Cancelled { dropped }))
}

/// Pending writes for one machine that were never sent, oldest first.
async fn unsent_for_machine(
    tx: &mut Transaction<'_, Sqlite>,
    uid: Uuid,
) -> Result<Vec<(i64, QueuedWrite)>, RegistryError> {
    let rows = sqlx::query(
        "SELECT seq, payload FROM outbox WHERE machine_uid = ? AND attempts = 0 AND conflict IS NULL ORDER BY seq",
    )
    .bind(uid.to_string())
    .fetch_all(&mut **tx)
    .await
    .map_err(local)?;
    rows.iter()
        .map(|row| {
            let payload: String = row.try_get("payload").map_err(local)?;
            Ok((
                row.try_get("seq").map_err(local)?,
                serde_json::from_str(&payload).map_err(local)?,
            ))
        })
        .collect()
}

enum Fold {
    /// Replace the unsent write `seq` by `write`.
    Into { seq: i64, write: QueuedWrite },
    /// The machine was created offline and is now deleted offline: nothing to send at all.
    Cancel,
    /// Queue `write`, after dropping unsent writes it makes pointless.
    Append {
        drop_seqs: Vec<i64>,
        write: QueuedWrite,
    },
}

/// Decides how a new write combines with the machine's unsent queued writes.
fn fold(unsent: &[(i64, QueuedWrite)], new: &QueuedWrite) -> Fold {
    let last_full = unsent
        .iter()
        .rev()
        .find(|(_, w)| matches!(w, QueuedWrite::Create(_) | QueuedWrite::Update(_)));
    // An edit folded into an earlier write would move before a maintenance or a shift recorded
    // since, and both set a field the edit sets (the last maintenance, the efficiency): it is
    // queued after it instead.
    let record_since = last_full.is_some_and(|(full, _)| {
        unsent.iter().any(|(seq, w)| {
            seq > full
                && matches!(
                    w,
                    QueuedWrite::RecordMaintenance(_) | QueuedWrite::RecordShift(_)
                )
        })
    });
    match (new, last_full) {
        (QueuedWrite::Update(_), Some(_)) if record_since => Fold::Append {
            drop_seqs: Vec::new(),
            write: new.clone(),
        },
        (QueuedWrite::Update(update), Some((seq, QueuedWrite::Create(create)))) => {
            let mut merged = create.clone();
            merged.machine = update.machine.clone();
            Fold::Into {
                seq: *seq,
                write: QueuedWrite::Create(merged),
            }
        }
        (QueuedWrite::Update(update), Some((seq, QueuedWrite::Update(earlier)))) => {
            let mut merged = earlier.clone();
            merged.machine = update.machine.clone();
            Fold::Into {
                seq: *seq,
                write: QueuedWrite::Update(merged),
            }
        }
        (QueuedWrite::SetStatus(status), Some((seq, QueuedWrite::Create(create)))) => {
            let mut merged = create.clone();
            merged.machine.operational_status = status.status.clone();
            Fold::Into {
                seq: *seq,
                write: QueuedWrite::Create(merged),
            }
        }
        (QueuedWrite::SetStatus(status), Some((seq, QueuedWrite::Update(update)))) => {
            let mut merged = update.clone();
            merged.machine.operational_status = status.status.clone();
            Fold::Into {
                seq: *seq,
                write: QueuedWrite::Update(merged),
            }
        }
        // Two status changes never sent: the later one is what the operator wants.
        (QueuedWrite::SetStatus(status), None) => match unsent.last() {
            Some((seq, QueuedWrite::SetStatus(earlier))) => {
                let mut merged = earlier.clone();
                merged.status = status.status.clone();
                Fold::Into {
                    seq: *seq,
                    write: QueuedWrite::SetStatus(merged),
                }
            }
            _ => Fold::Append {
                drop_seqs: Vec::new(),
                write: new.clone(),
            },
        },
        (QueuedWrite::Delete(_), Some((_, QueuedWrite::Create(_)))) => Fold::Cancel,
        (QueuedWrite::Delete(delete), _) => {
            // A queued update's base version is the one the operator saw before editing: the
            // delete must be checked against that, and the edit it supersedes is dropped.
            let base = unsent.iter().find_map(|(_, w)| match w {
                QueuedWrite::Update(u) => Some(u.expected_version),
                _ => None,
            });
            let mut delete = delete.clone();
            if let Some(version) = base {
                delete.expected_version = version;
            }
            // Maintenance and shifts recorded before the delete stay: their records outlive the
            // machine.
            Fold::Append {
                drop_seqs: unsent
                    .iter()
                    .filter(|(_, w)| {
                        !matches!(
                            w,
                            QueuedWrite::RecordMaintenance(_) | QueuedWrite::RecordShift(_)
                        )
                    })
                    .map(|(seq, _)| *seq)
                    .collect(),
                write: QueuedWrite::Delete(delete),
            }
        }
        _ => Fold::Append {
            drop_seqs: Vec::new(),
            write: new.clone(),
        },
    }
}
