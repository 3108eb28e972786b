//! The maintenance plan as this PC will see it: the server's plan (or, while the database is
//! away, the last one seen, re-assessed as of now) with this PC's writes still waiting in the
//! outbox laid over it, so a maintenance recorded offline leaves the overdue list at once.

use chrono::Utc;

use super::reads::spawn_logged;
use super::{OutboxEntry, QueuedWrite, SyncedRegistry};
use crate::domain::{MaintenancePlan, MaintenanceRecord};
use crate::error::RegistryError;

const LAST_PLAN: &str = "last_maintenance_plan";

impl SyncedRegistry {
    pub async fn maintenance_plan(&self) -> Result<MaintenancePlan, RegistryError> {
        let mut plan = match self.ask_server(self.registry.maintenance_plan()).await {
            Ok(plan) => {
                if let Ok(json) = serde_json::to_string(&plan) {
                    let outbox = self.outbox.clone();
                    spawn_logged("keeping the offline copy of the plan", async move {
                        if let Err(e) = outbox.cache_put(LAST_PLAN, &json).await {
                            tracing::warn!(error = %e, "could not keep the offline copy of the plan");
                        }
                    });
                }
                plan
            }
            Err(RegistryError::Unavailable(reason)) => {
                match self.outbox.cache_get(LAST_PLAN).await? {
                    Some((json, saved_at)) => {
                        let mut plan: MaintenancePlan = serde_json::from_str(&json)
                            .map_err(|e| RegistryError::Internal(format!("offline plan: {e}")))?;
                        plan.cached_at = Some(saved_at);
                        plan
                    }
                    None => return Err(RegistryError::Unavailable(reason)),
                }
            }
            Err(other) => return Err(other),
        };
        overlay_pending(&mut plan, &self.outbox.pending(10_000).await?);
        plan.assess(Utc::now());
        Ok(plan)
    }

    /// A machine's maintenance log. It lives on the server only.
    pub async fn maintenance_log(
        &self,
        uid: uuid::Uuid,
    ) -> Result<Vec<MaintenanceRecord>, RegistryError> {
        self.ask_server(self.registry.maintenance_log(uid)).await
    }
}

/// Lays the plan's writes waiting in the outbox over `plan`, in queue order, as the server will
/// apply them (the latest plan wins; a record moves the last maintenance on, never back).
pub fn overlay_pending(plan: &mut MaintenancePlan, pending: &[OutboxEntry]) {
    for entry in pending {
        match &entry.write {
            QueuedWrite::PlanMaintenance(w) => {
                let Ok(valid) = w.validate() else { continue };
                if let Some(machine) = plan.machines.iter_mut().find(|m| m.uid == w.uid) {
                    if let Some(days) = valid.interval_days {
                        machine.machine_interval_days = days;
                    }
                    if let Some(day) = valid.planned_for {
                        machine.planned_for = day;
                    }
                }
            }
            QueuedWrite::RecordMaintenance(w) => {
                let Ok(valid) = w.validate(Utc::now()) else {
                    continue;
                };
                let Some(machine) = plan.machines.iter_mut().find(|m| m.uid == w.uid) else {
                    continue;
                };
                if machine
                    .last_maintenance
                    .is_some_and(|last| last >= valid.done_at)
                {
                    continue; // a later one is recorded: nothing moves, nothing is fulfilled
                }
                machine.last_maintenance = Some(valid.done_at);
                // As the server does: a planned day up to the new next due day (a week after
                // the record without an interval) is fulfilled.
                let days = machine.interval_days().unwrap_or(7);
                let fulfils_until = valid
                    .done_at
                    .checked_add_signed(chrono::TimeDelta::days(days.into()))
                    .map(|until| until.date_naive());
                if machine
                    .planned_for
                    .is_some_and(|day| fulfils_until.is_some_and(|until| day <= until))
                {
                    machine.planned_for = None;
                }
            }
            QueuedWrite::Delete(w) => plan.machines.retain(|m| m.uid != w.uid),
            _ => {}
        }
    }
}
