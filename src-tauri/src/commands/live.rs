//! Live updates: machines changed by anyone reach the window as [`MachinesChanged`], so it
//! updates what it shows without polling (see `mes_core::sync` live).

use mes_core::sync::MachineChange;
use serde::{Deserialize, Serialize};

/// A batch of changes announced by the database (or a resync after the listener was away).
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct MachinesChanged {
    pub changes: Vec<MachineChange>,
}
