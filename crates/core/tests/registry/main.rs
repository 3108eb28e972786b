//! Integration tests of the registry core against a real PostgreSQL: each `#[sqlx::test]` gets a
//! fresh database (from `DATABASE_URL`), migrated unless the test says otherwise.

// Test code: a failed unwrap is a failed test, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod adoption;
mod alerts;
mod concurrency;
mod crud;
mod deadlines;
mod foreign_data;
mod history;
mod idempotency;
mod list;
mod live;
mod maintenance;
mod oee_views;
mod offline_copy;
mod own_writes;
#[path = "../shared/proxy.rs"]
mod proxy;
mod races;
mod refusals;
mod reliability;
mod replay_grouped;
mod roles;
mod schema_safety;
mod sessions;
mod shift_entry;
mod shift_import;
mod shifts;
mod support;
mod sync;
mod transfer;
mod unavailable;
mod validation;
