//! The machine registry core: everything the desktop app, the admin tool, the tests and the
//! benchmarks share. It knows PostgreSQL and nothing of Tauri or windows.
//!
//! Data flows: raw input from outside (`domain::MachineInput`) is parsed into validated types
//! (`domain::ValidMachine`), which the repository (`repo`) writes with plain SQL. `Registry` ties a
//! connection pool, the one-time schema migration and the repository together.

mod alerts;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod export;
mod failover;
mod host_list;
pub mod import;
mod import_shifts;
mod maintenance;
pub mod private;
pub mod registry;
pub mod repo;
pub mod samples;
pub mod schema;
pub mod session;
pub mod settings_file;
mod shifts;
pub mod sync;

pub use config::{DatabaseConfig, DatabaseTarget};
pub use error::{FieldError, RegistryError};
pub use registry::Registry;

/// The migrations embedded in the binary; the app runs them on start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");
