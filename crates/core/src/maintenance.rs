//! The registry's maintenance-plan operations (online; `sync` queues the per-machine writes
//! while the database is away).

use chrono::Utc;
use uuid::Uuid;

use crate::domain::{
    Machine, MaintenancePlan, MaintenanceRecord, PlanMaintenance, RecordMaintenance,
    SetTypeInterval,
};
use crate::error::RegistryError;
use crate::{repo, Registry};

impl Registry {
    /// Every machine's next due maintenance, most urgent first, and the types' intervals.
    pub async fn maintenance_plan(&self) -> Result<MaintenancePlan, RegistryError> {
        self.ensure_schema().await?;
        self.db()
            .run(|conn| Box::pin(async move { repo::maintenance_plan(conn, Utc::now()).await }))
            .await
    }

    /// A machine's maintenance log, newest first (at most 500; kept after a delete).
    pub async fn maintenance_log(
        &self,
        uid: Uuid,
    ) -> Result<Vec<MaintenanceRecord>, RegistryError> {
        self.ensure_schema().await?;
        self.db()
            .run(move |conn| Box::pin(async move { repo::maintenance_log(conn, uid, 500).await }))
            .await
    }

    #[tracing::instrument(skip(self, write), fields(write_id = %write.write_id, uid = %write.uid), err)]
    pub async fn plan_maintenance(
        &self,
        write: &PlanMaintenance,
    ) -> Result<Machine, RegistryError> {
        let plan = write.validate().map_err(RegistryError::Validation)?;
        self.ensure_schema().await?;
        let (write_id, uid, client) = (write.write_id, write.uid, self.client());
        self.db()
            .run(move |conn| {
                let plan = plan.clone();
                Box::pin(
                    async move { repo::plan_maintenance(conn, write_id, uid, &plan, client).await },
                )
            })
            .await
    }

    #[tracing::instrument(skip(self, write), fields(write_id = %write.write_id, uid = %write.uid), err)]
    pub async fn record_maintenance(
        &self,
        write: &RecordMaintenance,
    ) -> Result<Machine, RegistryError> {
        let record = write
            .validate(Utc::now())
            .map_err(RegistryError::Validation)?;
        self.ensure_schema().await?;
        let (write_id, uid, client) = (write.write_id, write.uid, self.client());
        self.db()
            .run(move |conn| {
                let record = record.clone();
                Box::pin(async move {
                    repo::record_maintenance(conn, write_id, uid, &record, client).await
                })
            })
            .await
    }

    /// Sets or removes a type's default interval. Online only: it is a planner's setting, not an
    /// entry made at a machine, and setting it again is harmless.
    pub async fn set_type_interval(&self, change: &SetTypeInterval) -> Result<(), RegistryError> {
        let (machine_type, days) = change.validate().map_err(RegistryError::Validation)?;
        self.ensure_schema().await?;
        self.db()
            .run(move |conn| {
                let machine_type = machine_type.clone();
                Box::pin(async move { repo::set_type_interval(conn, &machine_type, days).await })
            })
            .await
    }
}
