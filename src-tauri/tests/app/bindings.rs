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
