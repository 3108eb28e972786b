//! The app manifest: every command the window may call is named here, and the capability
//! (capabilities/default.json) grants exactly these to the main window. A command added to the
//! app but not here cannot be called from the window.

const COMMANDS: &[&str] = &[
    "database_status",
    "session_info",
    "sign_in",
    "sign_out",
    "test_connection",
    "save_connection",
    "list_machines",
    "get_machine",
    "create_machine",
    "update_machine",
    "set_machine_status",
    "delete_machine",
    "status_counts",
    "machine_types",
    "machine_history",
    "reliability",
    "fleet_efficiency",
    "machine_timeline",
    "maintenance_plan",
    "maintenance_log",
    "plan_maintenance",
    "record_maintenance",
    "set_type_interval",
    "preview_shift",
    "record_shift",
    "shift_form_lists",
    "set_ideal_cycle_time",
    "add_loss_reason",
    "retire_loss_reason",
    "oee_report",
    "machine_oee",
    "oee_trend",
    "downtime_pareto",
    "export_table",
    "import_machines",
    "import_shifts",
    "alerts",
    "mark_alerts_read",
    "alert_settings",
    "save_alert_settings",
    "sync_status",
    "outbox_entries",
    "discard_write",
    "retry_write",
];

fn main() {
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attributes) {
        panic!("tauri-build: {e:#}");
    }
}
