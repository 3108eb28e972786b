//! The registry's shift records, reason list and OEE roll-ups (online; queueing shift entries
//! offline through the outbox comes with the window's shift form).

use uuid::Uuid;

use crate::domain::{
    LossReason, NewLossReason, OeeGroup, OeeGrouping, OeeTotals, RecordShift, TimeRange,
};
use crate::error::RegistryError;
use crate::{repo, Registry};

impl Registry {
    /// Records a shift (validated first: nothing is kept when a field is wrong).
    #[tracing::instrument(skip(self, write), fields(write_id = %write.write_id, uid = %write.uid), err)]
    pub async fn record_shift(&self, write: &RecordShift) -> Result<(), RegistryError> {
        let shift = write.shift.validate().map_err(RegistryError::Validation)?;
        self.ensure_schema().await?;
        let (write_id, uid) = (write.write_id, write.uid);
        self.db()
            .run(move |conn| {
                let shift = shift.clone();
                Box::pin(async move { repo::record_shift(conn, write_id, uid, &shift).await })
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
