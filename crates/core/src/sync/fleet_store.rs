//! Where the offline copy of the fleet lives: a table in the outbox's cache file, one row per
//! machine, with its time and the server's fingerprint of the fleet in the `cache` table.

use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::outbox::local;
use super::{FleetCopy, Outbox};
use crate::domain::Machine;
use crate::error::RegistryError;

const FLEET: &str = "fleet";

impl Outbox {
    /// Replaces the copy with `machines`, as of now, fingerprinted `signature`.
    pub async fn fleet_replace(
        &self,
        machines: &[Machine],
        signature: &str,
    ) -> Result<(), RegistryError> {
        let json = serde_json::to_string(machines).map_err(local)?;
        let mut tx = self.cache.begin().await.map_err(local)?;
        sqlx::query("DELETE FROM fleet")
            .execute(&mut *tx)
            .await
            .map_err(local)?;
        sqlx::query(
            "INSERT INTO fleet (uid, machine) SELECT json_extract(value, '$.uid'), value FROM json_each(?)",
        )
        .bind(json)
        .execute(&mut *tx)
        .await
        .map_err(local)?;
        sqlx::query("INSERT OR REPLACE INTO cache (key, value, saved_at) VALUES (?, ?, ?)")
            .bind(FLEET)
            .bind(signature)
            .bind(Utc::now().to_rfc3339())
            .execute(&mut *tx)
            .await
            .map_err(local)?;
        tx.commit().await.map_err(local)?;
        self.fleet_changed();
        Ok(())
    }

    /// Forgets the copy (the fleet outgrew what is kept offline).
    pub async fn fleet_clear(&self) -> Result<(), RegistryError> {
        let mut tx = self.cache.begin().await.map_err(local)?;
        for sql in ["DELETE FROM fleet", "DELETE FROM cache WHERE key = 'fleet'"] {
            sqlx::query(sql).execute(&mut *tx).await.map_err(local)?;
        }
        tx.commit().await.map_err(local)?;
        self.fleet_changed();
        Ok(())
    }

    /// Brings one machine of the copy up to date after a write this app applied online. An
    /// older version never replaces a newer one, whatever order such updates land in.
    pub async fn fleet_put(&self, machine: &Machine) -> Result<(), RegistryError> {
        sqlx::query(
            "INSERT INTO fleet (uid, machine)
             SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM cache WHERE key = 'fleet')
             ON CONFLICT (uid) DO UPDATE SET machine = excluded.machine
             WHERE json_extract(excluded.machine, '$.version') > json_extract(fleet.machine, '$.version')",
        )
        .bind(machine.uid.to_string())
        .bind(serde_json::to_string(machine).map_err(local)?)
        .execute(&self.cache)
        .await
        .map_err(local)?;
        self.fleet_changed();
        Ok(())
    }

    pub async fn fleet_remove(&self, uid: Uuid) -> Result<(), RegistryError> {
        sqlx::query("DELETE FROM fleet WHERE uid = ?")
            .bind(uid.to_string())
            .execute(&self.cache)
            .await
            .map_err(local)?;
        self.fleet_changed();
        Ok(())
    }

    /// The server's fingerprint of the fleet when the copy was taken.
    pub async fn fleet_signature(&self) -> Result<Option<String>, RegistryError> {
        sqlx::query_scalar("SELECT value FROM cache WHERE key = 'fleet'")
            .fetch_optional(&self.cache)
            .await
            .map_err(local)
    }

    /// Which state of the copy is on disk: a copy read at this generation is still current
    /// while it stays the same.
    pub fn fleet_generation(&self) -> u64 {
        self.fleet_generation.load(Ordering::Acquire)
    }

    fn fleet_changed(&self) {
        self.fleet_generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The copy, when there is one.
    pub async fn fleet_copy(&self) -> Result<Option<FleetCopy>, RegistryError> {
        let saved_at: Option<String> =
            sqlx::query_scalar("SELECT saved_at FROM cache WHERE key = 'fleet'")
                .fetch_optional(&self.cache)
                .await
                .map_err(local)?;
        let Some(saved_at) = saved_at else {
            return Ok(None);
        };
        let saved_at: DateTime<Utc> = DateTime::parse_from_rfc3339(&saved_at)
            .map_err(local)?
            .to_utc();
        let rows: Vec<String> = sqlx::query_scalar("SELECT machine FROM fleet")
            .fetch_all(&self.cache)
            .await
            .map_err(local)?;
        let machines = rows
            .iter()
            .map(|json| serde_json::from_str(json))
            .collect::<Result<Vec<Machine>, _>>();
        match machines {
            Ok(machines) => Ok(Some(FleetCopy { machines, saved_at })),
            // A copy written by an older version of the app: taken anew when next online.
            Err(e) => {
                tracing::warn!(error = %e, "the offline copy of the fleet is in an old format; ignoring it");
                Ok(None)
            }
        }
    }
}
