//! Integration tests of the registry core against a real PostgreSQL: each `#[sqlx::test]` gets a
//! fresh database (from `DATABASE_URL`), migrated unless the test says otherwise.

mod adoption;
mod concurrency;
mod crud;
mod idempotency;
mod list;
mod support;
mod unavailable;
mod validation;
