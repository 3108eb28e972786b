//! Tauri commands: each takes the managed state, calls one core function, converts the error.

pub mod alerts;
pub mod database;
pub mod live;
pub mod machines;
pub mod maintenance;
pub mod planner;
pub mod session;
pub mod shifts;
pub mod sync;
pub mod transfer;
