//! What the signed-in database user may do, as PostgreSQL itself says. The window hides or
//! disables what the role cannot do; the server refuses it anyway.

use serde::{Deserialize, Serialize};

/// The group roles `mes-admin roles` makes. Users are login roles in one of them.
pub const GROUP_ROLES: [&str; 4] = ["mes_viewer", "mes_operator", "mes_planner", "mes_admin"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Privileges {
    /// The database user the app is signed in as (`current_user`).
    pub user: String,
    /// The app's group roles this user is in (empty for an owner or a role made by hand).
    pub groups: Vec<String>,
    /// A superuser: may do anything (and counts as a member of every group).
    pub superuser: bool,
    pub can_read: bool,
    pub can_create: bool,
    pub can_edit: bool,
    pub can_delete: bool,
    pub can_set_status: bool,
    pub can_read_history: bool,
    /// Set maintenance intervals (per machine, per type) and planned days.
    pub can_plan_maintenance: bool,
    /// Record maintenance done (logs it, moves the machine's last maintenance on).
    pub can_record_maintenance: bool,
    /// Enter shift production records (counts, stops and their reasons).
    pub can_record_shifts: bool,
    /// Add and retire the reasons of the loss reason list.
    pub can_keep_reasons: bool,
}

impl Privileges {
    /// The group that best names this user's role, for the header ("alice · operator").
    pub fn role_label(&self) -> &str {
        if self.superuser {
            return "superuser";
        }
        GROUP_ROLES
            .iter()
            .rev()
            .find(|group| self.groups.iter().any(|g| g == *group))
            .map_or("", |group| group.trim_start_matches("mes_"))
    }
}
