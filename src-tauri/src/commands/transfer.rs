//! Export (CSV, XLSX) into the user's downloads folder, and import of machines from CSV text
//! (the window reads the file the user picked and sends its text).

use mes_core::export::{ExportFormat, ExportRequest, ExportedFile};
use mes_core::import::ImportReport;
use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;

/// Writes `request` as `format` into the export folder: `MES_EXPORT_DIR` when set, else the
/// user's downloads folder (else the home folder); answers the files written.
#[tauri::command]
#[specta::specta]
pub async fn export_table(
    state: State<'_, AppState>,
    request: ExportRequest,
    format: ExportFormat,
) -> Result<ExportedFile, CommandError> {
    let dir = std::env::var_os("MES_EXPORT_DIR")
        .map(std::path::PathBuf::from)
        .or_else(dirs::download_dir)
        .or_else(dirs::home_dir)
        .unwrap_or_else(std::env::temp_dir);
    state
        .call(move |s| async move { s.export(&request, format, &dir).await })
        .await
}

/// Checks a CSV of machines (`apply` false: a dry run) or creates them all in one transaction.
#[tauri::command]
#[specta::specta]
pub async fn import_machines(
    state: State<'_, AppState>,
    csv: String,
    apply: bool,
) -> Result<ImportReport, CommandError> {
    state
        .call(move |s| async move { s.import_machines(&csv, apply).await })
        .await
}

/// Checks a CSV of shift counts (`apply` false: a dry run) or records them all in one
/// transaction.
#[tauri::command]
#[specta::specta]
pub async fn import_shifts(
    state: State<'_, AppState>,
    csv: String,
    apply: bool,
) -> Result<ImportReport, CommandError> {
    state
        .call(move |s| async move { s.import_shifts(&csv, apply).await })
        .await
}
