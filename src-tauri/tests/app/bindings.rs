/// Regenerates the TypeScript bindings and fails when they differ from the committed file.
/// `UPDATE_BINDINGS=1` (what `make bindings` sets) writes them instead.
#[test]
fn committed_bindings_match_the_commands() {
    let committed = std::fs::read_to_string(mes_app_lib::BINDINGS_PATH).unwrap_or_default();
    let fresh_path = std::env::temp_dir().join(format!("mes-bindings-{}.ts", std::process::id()));
    let fresh_path = fresh_path.to_str().expect("utf-8 temp path");
    mes_app_lib::export_bindings(fresh_path).expect("export bindings");
    let fresh = std::fs::read_to_string(fresh_path).expect("read fresh bindings");
    let _ = std::fs::remove_file(fresh_path);
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(mes_app_lib::BINDINGS_PATH, &fresh).expect("write bindings");
        return;
    }
    assert!(
        committed == fresh,
        "ui/src/bindings.ts is stale: run `make bindings` and commit the result"
    );
}

/// Every command in the bindings is in the app manifest (build.rs) and granted to the window
/// (capabilities/default.json), and nothing else is: the real window rejects a command missing
/// there, which the mock runtime would not notice.
#[test]
fn the_manifest_and_the_capability_name_exactly_the_commands() {
    let root = env!("CARGO_MANIFEST_DIR");
    let read = |path: &str| std::fs::read_to_string(format!("{root}/{path}")).expect(path);
    let bindings = read("../ui/src/bindings.ts");
    let mut invoked: Vec<String> = bindings
        .split("__TAURI_INVOKE")
        .skip(1)
        // `__TAURI_INVOKE("name"` or, for a command that cannot fail, `__TAURI_INVOKE<T>("name"`
        .filter_map(|rest| rest.split_once("(\"").map(|(_, name)| name))
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect();
    invoked.sort();
    let build = read("build.rs");
    let manifest_list = build
        .split("const COMMANDS: &[&str] = &[")
        .nth(1)
        .and_then(|rest| rest.split("];").next())
        .expect("COMMANDS in build.rs");
    let mut manifest: Vec<String> = manifest_list
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    manifest.sort();
    assert_eq!(
        invoked, manifest,
        "build.rs COMMANDS must list every command"
    );
    let capability: serde_json::Value =
        serde_json::from_str(&read("capabilities/default.json")).expect("capability JSON");
    let mut granted: Vec<String> = capability["permissions"]
        .as_array()
        .expect("permissions")
        .iter()
        .filter_map(|p| p.as_str())
        .filter_map(|p| p.strip_prefix("allow-"))
        .map(|p| p.replace('-', "_"))
        .collect();
    granted.sort();
    assert_eq!(
        invoked, granted,
        "capabilities/default.json must grant every command"
    );
}
