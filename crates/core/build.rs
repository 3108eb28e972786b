// `sqlx::migrate!` embeds the migrations at compile time, but on stable Rust it cannot tell
// cargo to watch the folder: without this, a new migration file would not rebuild the crate.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
