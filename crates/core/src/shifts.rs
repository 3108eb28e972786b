//! The registry's shift records, reason list and OEE roll-ups. Shift entries made offline go
//! through the outbox (`QueuedWrite::RecordShift`) to the same repository call.

use chrono::Utc;
use uuid::Uuid;

use crate::domain::{
    DowntimePareto, LossReason, Machine, NewLossReason, OeeDay, OeeGroup, OeeGrouping, OeeTotals,
    RecordShift, SetTypeCycleTime, TimeRange, TypeCycleTime,
};
use crate::error::RegistryError;
use crate::{repo, Registry};

impl Registry {
    /// Records a shift (validated first: nothing is kept when a field is wrong) and answers the
    /// machine as it is now: its efficiency follows the OEE of its latest completed shift.
    #[tracing::instrument(skip(self, write), fields(write_id = %write.write_id, uid = %write.uid), err)]
    pub async fn record_shift(&self, write: &RecordShift) -> Result<Machine, RegistryError> {
        let shift = write
            .validate(Utc::now())
            .map_err(RegistryError::Validation)?;
        self.ensure_schema().await?;
        let (write_id, uid, client) = (write.write_id, write.uid, self.client());
        let machine_uid = shift.machine_uid;
        self.db()
            .run(move |conn| {
                let shift = shift.clone();
                Box::pin(
                    async move { repo::record_shift(conn, write_id, uid, &shift, client).await },
                )
            })
            .await?
            // Recorded by an earlier delivery of this write; the machine was deleted since.
            .ok_or(RegistryError::NotFound { uid: machine_uid })
    }

    /// Every type's ideal cycle time (the shift form's default).
    pub async fn ideal_cycle_times(&self) -> Result<Vec<TypeCycleTime>, RegistryError> {
        self.ensure_schema().await?;
        self.db()
            .run(|conn| Box::pin(async move { repo::ideal_cycle_times(conn).await }))
            .await
    }

    /// A planner sets or removes a type's ideal cycle time (online only, like a type's
    /// maintenance interval: a setting, not an entry made at a machine).
    pub async fn set_ideal_cycle_time(
        &self,
        change: &SetTypeCycleTime,
    ) -> Result<(), RegistryError> {
        let (machine_type, seconds) = change.validate().map_err(RegistryError::Validation)?;
        self.ensure_schema().await?;
        self.db()
            .run(move |conn| {
                let machine_type = machine_type.clone();
                Box::pin(
                    async move { repo::set_ideal_cycle_time(conn, &machine_type, seconds).await },
                )
            })
            .await
    }

    /// Every reason, retired ones too.
    pub async fn loss_reasons(&self) -> Result<Vec<LossReason>, RegistryError> {
        self.ensure_schema().await?;
        self.db()
            .run(|conn| Box::pin(async move { repo::loss_reasons(conn).await }))
            .await
    }

    pub async fn add_loss_reason(
        &self,
        reason: &NewLossReason,
    ) -> Result<LossReason, RegistryError> {
        let reason = reason.validate().map_err(RegistryError::Validation)?;
        self.ensure_schema().await?;
        self.db()
            .run(move |conn| {
                let reason = reason.clone();
                Box::pin(async move { repo::add_loss_reason(conn, &reason).await })
            })
            .await
    }

    pub async fn retire_loss_reason(&self, id: Uuid) -> Result<LossReason, RegistryError> {
        self.ensure_schema().await?;
        self.db()
            .run(move |conn| Box::pin(async move { repo::retire_loss_reason(conn, id).await }))
            .await
    }

    /// OEE sums of the shifts that began in `range`, for the fleet, per type or per machine.
    pub async fn oee_totals(
        &self,
        range: TimeRange,
        grouping: OeeGrouping,
    ) -> Result<Vec<OeeGroup>, RegistryError> {
        self.oee_sums(range, grouping, None).await
    }

    /// One machine's OEE sums over `range` (its waterfall).
    pub async fn machine_oee_totals(
        &self,
        range: TimeRange,
        machine: Uuid,
    ) -> Result<OeeTotals, RegistryError> {
        let groups = self
            .oee_sums(range, OeeGrouping::Fleet, Some(machine))
            .await?;
        Ok(groups
            .into_iter()
            .next()
            .map(|g| g.totals)
            .unwrap_or_default())
    }

    /// OEE per UTC day over the days `range` touches: the fleet, a type or a machine (`key`).
    pub async fn oee_trend(
        &self,
        range: TimeRange,
        grouping: OeeGrouping,
        key: Option<String>,
    ) -> Result<Vec<OeeDay>, RegistryError> {
        range
            .validate()
            .map_err(|message| RegistryError::field("range", message))?;
        self.ensure_schema().await?;
        self.db()
            .run(move |conn| {
                let key = key.clone();
                Box::pin(
                    async move { repo::oee_trend(conn, range, grouping, key.as_deref()).await },
                )
            })
            .await
    }

    /// Downtime by reason and by loss category of the shifts that began in `range`.
    pub async fn downtime_pareto(
        &self,
        range: TimeRange,
        grouping: OeeGrouping,
        key: Option<String>,
    ) -> Result<DowntimePareto, RegistryError> {
        range
            .validate()
            .map_err(|message| RegistryError::field("range", message))?;
        self.ensure_schema().await?;
        self.db()
            .run(move |conn| {
                let key = key.clone();
                Box::pin(async move {
                    repo::downtime_pareto(conn, range, grouping, key.as_deref()).await
                })
            })
            .await
    }

    async fn oee_sums(
        &self,
        range: TimeRange,
        grouping: OeeGrouping,
        machine: Option<Uuid>,
    ) -> Result<Vec<OeeGroup>, RegistryError> {
        range
            .validate()
            .map_err(|message| RegistryError::field("range", message))?;
        self.ensure_schema().await?;
        self.db()
            .run(move |conn| {
                Box::pin(async move { repo::oee_totals(conn, range, grouping, machine).await })
            })
            .await
    }
}
