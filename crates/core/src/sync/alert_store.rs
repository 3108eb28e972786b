//! This user's alerts on this PC: their settings (in the outbox's durable `meta`), the alerts
//! kept (the newest 500) and where the watch stands, in the cache file. New alerts and the
//! watch's new position are one SQLite transaction: after a crash the watch reads the same
//! history again and each event's key keeps it from being listed twice.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use uuid::Uuid;

use super::outbox::local;
use super::Outbox;
use crate::domain::{Alert, AlertKind, AlertList, AlertSettings, NewAlert};
use crate::error::RegistryError;

/// Alerts kept per user; older ones are forgotten.
pub const KEPT_ALERTS: i64 = 500;
const SETTINGS_KEY: &str = "alert_settings";
const WATCH_KEY: &str = "alert_watch";

/// Where the watch stands. (A field added later reads as its default from an older position.)
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WatchPosition {
    /// Every history row up to this id has been looked at (or given up as rolled back).
    pub history_id: i64,
    /// Rows after `history_id` already looked at (beyond a gap that may still fill), with the
    /// server's time of each.
    pub seen_beyond: BTreeMap<i64, DateTime<Utc>>,
    /// Machines overdue at the last look, with the due time they were overdue for.
    pub overdue: Vec<(Uuid, DateTime<Utc>)>,
    /// When the overdue machines were last looked at.
    pub overdue_checked_at: Option<DateTime<Utc>>,
}

impl Outbox {
    pub async fn alert_settings(&self) -> Result<AlertSettings, RegistryError> {
        let stored: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
            .bind(SETTINGS_KEY)
            .fetch_optional(&self.pool)
            .await
            .map_err(local)?;
        Ok(stored.map_or_else(AlertSettings::default, |json| {
            serde_json::from_str(&json).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "the alert settings kept on this PC cannot be read; using the defaults");
                AlertSettings::default()
            })
        }))
    }

    pub async fn set_alert_settings(&self, settings: &AlertSettings) -> Result<(), RegistryError> {
        sqlx::query("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)")
            .bind(SETTINGS_KEY)
            .bind(serde_json::to_string(settings).map_err(local)?)
            .execute(&self.pool)
            .await
            .map_err(local)?;
        Ok(())
    }

    /// Where the watch stands; `None` before this user's first watch on this PC.
    pub async fn watch_position(&self) -> Result<Option<WatchPosition>, RegistryError> {
        let stored: Option<String> = sqlx::query_scalar("SELECT value FROM cache WHERE key = ?")
            .bind(WATCH_KEY)
            .fetch_optional(&self.cache)
            .await
            .map_err(local)?;
        Ok(stored.and_then(|json| match serde_json::from_str(&json) {
            Ok(position) => Some(position),
            Err(e) => {
                // Starting again from now skips what happened since the last look: said.
                tracing::warn!(error = %e, "the alert watch's position cannot be read; watching from now on");
                None
            }
        }))
    }

    /// Keeps the alerts not kept before (by key) and moves the watch to `position`, in one
    /// transaction. Returns the alerts that are new.
    pub async fn keep_alerts(
        &self,
        alerts: Vec<NewAlert>,
        position: &WatchPosition,
    ) -> Result<Vec<NewAlert>, RegistryError> {
        let mut tx = self.cache.begin().await.map_err(local)?;
        let mut kept = Vec::new();
        for alert in alerts {
            let inserted = sqlx::query(
                "INSERT OR IGNORE INTO alerts (key, kind, machine_uid, machine_name, message, at, by)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&alert.key)
            .bind(alert.kind.as_str())
            .bind(alert.machine_uid.to_string())
            .bind(&alert.machine_name)
            .bind(&alert.message)
            .bind(alert.at.to_rfc3339())
            .bind(&alert.by)
            .execute(&mut *tx)
            .await
            .map_err(local)?;
            if inserted.rows_affected() == 1 {
                kept.push(alert);
            }
        }
        sqlx::query(
            "DELETE FROM alerts WHERE id <= (SELECT id FROM alerts ORDER BY id DESC LIMIT 1 OFFSET ?)",
        )
        .bind(KEPT_ALERTS)
        .execute(&mut *tx)
        .await
        .map_err(local)?;
        sqlx::query("INSERT OR REPLACE INTO cache (key, value, saved_at) VALUES (?, ?, ?)")
            .bind(WATCH_KEY)
            .bind(serde_json::to_string(position).map_err(local)?)
            .bind(Utc::now().to_rfc3339())
            .execute(&mut *tx)
            .await
            .map_err(local)?;
        tx.commit().await.map_err(local)?;
        Ok(kept)
    }

    /// The alerts kept, newest first.
    pub async fn alerts(&self, limit: i64) -> Result<AlertList, RegistryError> {
        let rows = sqlx::query(
            "SELECT id, kind, machine_uid, machine_name, message, at, by, read
             FROM alerts ORDER BY id DESC LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&self.cache)
        .await
        .map_err(local)?;
        let unread: i64 = sqlx::query_scalar("SELECT count(*) FROM alerts WHERE read = 0")
            .fetch_one(&self.cache)
            .await
            .map_err(local)?;
        let alerts = rows
            .iter()
            .filter_map(|row| match alert_from_row(row) {
                Ok(alert) => Some(alert),
                Err(e) => {
                    tracing::warn!(error = %e, "an alert kept on this PC cannot be read; skipped");
                    None
                }
            })
            .collect();
        Ok(AlertList { alerts, unread })
    }

    /// Marks every alert up to `up_to` (an id) read.
    pub async fn mark_alerts_read(&self, up_to: i64) -> Result<(), RegistryError> {
        sqlx::query("UPDATE alerts SET read = 1 WHERE id <= ? AND read = 0")
            .bind(up_to)
            .execute(&self.cache)
            .await
            .map_err(local)?;
        Ok(())
    }
}

fn alert_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Alert, RegistryError> {
    let kind: String = row.try_get("kind").map_err(local)?;
    let uid: String = row.try_get("machine_uid").map_err(local)?;
    let at: String = row.try_get("at").map_err(local)?;
    let read: i64 = row.try_get("read").map_err(local)?;
    Ok(Alert {
        id: row.try_get("id").map_err(local)?,
        kind: AlertKind::parse(&kind).ok_or_else(|| local(format!("unknown alert kind {kind}")))?,
        machine_uid: Uuid::parse_str(&uid).map_err(local)?,
        machine_name: row.try_get("machine_name").map_err(local)?,
        message: row.try_get("message").map_err(local)?,
        at: DateTime::parse_from_rfc3339(&at).map_err(local)?.to_utc(),
        by: row.try_get("by").map_err(local)?,
        read: read != 0,
    })
}
