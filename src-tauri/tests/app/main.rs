//! The desktop shell's tests: the committed bindings are current, and every command works through
//! Tauri's IPC layer (mock runtime) with the JSON shapes the UI relies on.

// Test code: a failed unwrap is a failed test, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bindings;
mod ipc;
#[path = "../../../crates/core/tests/shared/proxy.rs"]
mod proxy;
mod sessions;
mod support;
