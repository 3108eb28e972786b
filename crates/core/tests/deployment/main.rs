//! The app in the deployments a plant runs beside a plain server: a replicated database that
//! fails over, and PgBouncer. Each test starts private clusters (and PgBouncer) of its own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../shared/cluster.rs"]
mod cluster;

mod failover;
mod pgbouncer;
