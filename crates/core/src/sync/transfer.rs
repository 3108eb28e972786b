//! Export and import as this PC serves them: an export of the list answers from the offline
//! copy while the database is away (like the list itself); the reliability table and a
//! machine's history live on the server. Import needs the server (see `import`).

use std::path::Path;

use chrono::Utc;

use super::SyncedRegistry;
use crate::domain::Machine;
use crate::error::RegistryError;
use crate::export::{self, ExportFormat, ExportRequest, ExportedFile, Sheet};
use crate::import::ImportReport;

/// The most machines one export of the list writes; more is refused (narrow the filter), never
/// cut silently.
pub const EXPORT_LIMIT: i64 = 100_000;
/// How long reading them may take (far beyond the per-call deadline).
const EXPORT_READ_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

impl SyncedRegistry {
    /// Writes what `request` names into `dir` as `format`; answers where and how many rows.
    pub async fn export(
        &self,
        request: &ExportRequest,
        format: ExportFormat,
        dir: &Path,
    ) -> Result<ExportedFile, RegistryError> {
        let mut cached_at = None;
        let (stem, sheets): (String, Vec<Sheet>) = match request {
            ExportRequest::Machines { query } => {
                let (machines, copy_time) = self.all_matching(query).await?;
                cached_at = copy_time;
                ("machines".into(), vec![export::machines_sheet(&machines)])
            }
            ExportRequest::Reliability { range } => {
                let report = self.ask_server(self.registry.reliability(*range)).await?;
                ("reliability".into(), export::reliability_sheets(&report))
            }
            ExportRequest::Oee {
                range,
                machine_type,
                machine,
            } => {
                let (grouping, key, focus) = match (machine, machine_type) {
                    (Some(uid), _) => {
                        let name = match self.get_machine(*uid).await {
                            Ok(m) => m.machine_name,
                            Err(_) => uid.to_string(),
                        };
                        (
                            crate::domain::OeeGrouping::Machine,
                            Some(uid.to_string()),
                            name,
                        )
                    }
                    (None, Some(t)) => (
                        crate::domain::OeeGrouping::MachineType,
                        Some(t.clone()),
                        t.clone(),
                    ),
                    (None, None) => (crate::domain::OeeGrouping::Fleet, None, "fleet".to_owned()),
                };
                let registry = &self.registry;
                let (by_type, by_machine, days, pareto) = self
                    .ask_server(async {
                        let by_type = registry
                            .oee_totals(*range, crate::domain::OeeGrouping::MachineType)
                            .await?;
                        let by_machine = registry
                            .oee_totals(*range, crate::domain::OeeGrouping::Machine)
                            .await?;
                        let days = registry.oee_trend(*range, grouping, key.clone()).await?;
                        let pareto = registry
                            .downtime_pareto(*range, grouping, key.clone())
                            .await?;
                        Ok((by_type, by_machine, days, pareto))
                    })
                    .await?;
                (
                    format!("oee-{}", file_safe(&focus)),
                    export::oee_sheets(&focus, &by_type, &by_machine, &days, &pareto),
                )
            }
            ExportRequest::History { uid } => {
                let entries = self.machine_history(*uid).await?;
                let name = match self.get_machine(*uid).await {
                    Ok(machine) => machine.machine_name,
                    Err(_) => uid.to_string(),
                };
                (
                    format!("history-{}", file_safe(&name)),
                    vec![export::history_sheet(&name, &entries)],
                )
            }
        };
        let dir = dir.to_owned();
        // File writing (and the XLSX's compression) off the async runtime.
        let mut written = tokio::task::spawn_blocking(move || {
            export::write_export(&dir, &stem, format, &sheets, Utc::now())
        })
        .await
        .map_err(|e| RegistryError::Internal(format!("export: {e}")))??;
        written.cached_at = cached_at;
        Ok(written)
    }

    /// Every machine the list's filters select, in its sort, in one statement (one snapshot),
    /// with the time of the offline copy when it answered instead of the server (the database
    /// away, or no answer in time: a slow export does not put the window offline).
    async fn all_matching(
        &self,
        query: &crate::domain::ListQuery,
    ) -> Result<(Vec<Machine>, Option<chrono::DateTime<Utc>>), RegistryError> {
        let mut valid = query.validate().map_err(RegistryError::Validation)?;
        valid.limit = EXPORT_LIMIT + 1;
        valid.offset = 0;
        // Every page of the list, whichever page the window shows.
        valid.boundary = None;
        let answer = if self.known_offline() {
            Err(self.offline_reason())
        } else {
            self.registry
                .all_matching(&valid, EXPORT_READ_LIMIT)
                .await
                .map(|machines| (machines, None))
        };
        let (machines, cached_at) = match answer {
            Err(RegistryError::Unavailable(reason)) => match self.fleet_copy_now().await? {
                Some(copy) => (copy.page(&valid).machines, Some(copy.saved_at)),
                None => return Err(RegistryError::Unavailable(reason)),
            },
            other => other?,
        };
        if machines.len() as i64 > EXPORT_LIMIT {
            return Err(RegistryError::field(
                "query",
                format!(
                    "more than {EXPORT_LIMIT} machines match: narrow the filter to export them"
                ),
            ));
        }
        Ok((machines, cached_at))
    }

    /// See [`Registry::import_machines`]; needs the database.
    pub async fn import_machines(
        &self,
        text: &str,
        apply: bool,
    ) -> Result<ImportReport, RegistryError> {
        self.ask_server(self.registry.import_machines(text, apply))
            .await
    }

    /// See [`Registry::import_shifts`]; needs the database.
    pub async fn import_shifts(
        &self,
        text: &str,
        apply: bool,
    ) -> Result<ImportReport, RegistryError> {
        self.ask_server(self.registry.import_shifts(text, apply))
            .await
    }
}

fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect()
}
