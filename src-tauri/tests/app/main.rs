//! The desktop shell's tests: the committed bindings are current, and every command works through
//! Tauri's IPC layer (mock runtime) with the JSON shapes the UI relies on.

mod bindings;
mod ipc;
mod support;
