use serde_json::{json, Value};
use sqlx::PgPool;

use crate::support::*;

fn create(app: &MockApp, name: &str) -> Value {
    let write = json!({ "write_id": new_id(), "uid": new_id(), "machine": machine_json(name) });
    let outcome = app
        .invoke("create_machine", json!({ "write": write }))
        .expect("create");
    assert_eq!(outcome["outcome"], "applied");
    outcome["machine"].clone()
}

#[sqlx::test(migrations = "../migrations")]
async fn create_get_list_update_status_delete_through_ipc(pool: PgPool) {
    with_app(registry(pool), |app| {
        let created = create(&app, "CNC-001");
        assert_eq!(created["machine_name"], "CNC-001");
        assert_eq!(created["operational_status"], "Running");
        assert_eq!(created["efficiency"], 85.5);
        assert_eq!(created["last_maintenance"], "2024-01-10T08:00:00Z");
        assert_eq!(created["version"], 1);
        let uid = created["uid"].clone();

        let got = app.invoke("get_machine", json!({ "uid": uid })).expect("get");
        assert_eq!(got, created);

        let query = json!({ "query": { "sort": "efficiency", "direction": "desc", "statuses": ["Running"],
            "machine_type": null, "search": "cnc", "limit": 50, "offset": 0 } });
        let page = app.invoke("list_machines", query.clone()).expect("list");
        assert_eq!(page["total"], 1);
        assert_eq!(page["cached_at"], Value::Null);
        assert_eq!(page["machines"][0], created);

        let mut changed = machine_json("CNC-001");
        changed["efficiency"] = json!(42.0);
        let update = json!({ "write": { "write_id": new_id(), "uid": uid, "expected_version": 1, "machine": changed } });
        let updated = app.invoke("update_machine", update).expect("update")["machine"].clone();
        assert_eq!((updated["efficiency"].clone(), updated["version"].clone()), (json!(42.0), json!(2)));

        let status = json!({ "write": { "write_id": new_id(), "uid": uid, "status": "Down" } });
        let downed = app.invoke("set_machine_status", status).expect("set status")["machine"].clone();
        assert_eq!(downed["operational_status"], "Down");

        let counts = app.invoke("status_counts", query).expect("counts");
        assert_eq!(counts, json!([
            { "status": "Running", "count": 0 }, { "status": "Idle", "count": 0 },
            { "status": "Maintenance", "count": 0 }, { "status": "Down", "count": 1 }
        ]));
        assert_eq!(app.invoke("machine_types", json!({})).expect("types"), json!(["Milling Machine"]));

        let delete = json!({ "write": { "write_id": new_id(), "uid": uid, "expected_version": 3 } });
        let deleted = app.invoke("delete_machine", delete).expect("delete")["machine"].clone();
        assert_eq!(deleted["uid"], uid);

        let status = app.invoke("database_status", json!({})).expect("status");
        assert_eq!(status["health"]["state"], "online");
        assert_eq!(status["config_file"], "/nonexistent/config.toml");
    })
    .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn errors_cross_as_a_tagged_union(pool: PgPool) {
    with_app(registry(pool), |app| {
        let created = create(&app, "CNC-001");

        let mut bad = machine_json("CNC-002");
        bad["efficiency"] = json!(250);
        bad["operational_status"] = json!("Exploded");
        let write = json!({ "write_id": new_id(), "uid": new_id(), "machine": bad });
        let error = app.invoke("create_machine", json!({ "write": write })).expect_err("invalid");
        assert_eq!(error["kind"], "Validation");
        let fields: Vec<&str> = error["data"]["fields"].as_array().expect("fields").iter()
            .map(|f| f["field"].as_str().expect("field name")).collect();
        assert_eq!(fields, ["operational_status", "efficiency"]);
        assert!(error["data"]["fields"][0]["message"].as_str().is_some_and(|m| m.contains("Exploded")));

        // NaN becomes null in JSON: still a field error, not a framework failure.
        let mut nan = machine_json("CNC-003");
        nan["efficiency"] = Value::Null;
        let write = json!({ "write_id": new_id(), "uid": new_id(), "machine": nan });
        let error = app.invoke("create_machine", json!({ "write": write })).expect_err("null");
        assert_eq!(error["data"]["fields"][0]["field"], "efficiency");

        let write = json!({ "write_id": new_id(), "uid": new_id(), "machine": machine_json("cnc-001") });
        let error = app.invoke("create_machine", json!({ "write": write })).expect_err("duplicate");
        assert_eq!(error, json!({ "kind": "DuplicateName", "data": { "name": "cnc-001" } }));

        let missing = new_id();
        let error = app.invoke("get_machine", json!({ "uid": missing })).expect_err("missing");
        assert_eq!(error, json!({ "kind": "NotFound", "data": { "uid": missing } }));

        let stale = json!({ "write": { "write_id": new_id(), "uid": created["uid"], "expected_version": 7,
            "machine": machine_json("CNC-001") } });
        let error = app.invoke("update_machine", stale).expect_err("stale");
        assert_eq!(error["kind"], "StaleVersion");
        assert_eq!(error["data"]["expected"], 7);
        assert_eq!(error["data"]["current"], created);

        let query = json!({ "query": { "sort": "machine_name", "direction": "asc", "statuses": [],
            "machine_type": null, "search": null, "limit": -5, "offset": 0 } });
        let error = app.invoke("list_machines", query).expect_err("bad limit");
        assert_eq!(error["data"]["fields"][0]["field"], "limit");
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_database_is_reported_as_such() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let url = format!("postgres://op:TopSecret9@127.0.0.1:{port}/mes");
    let config = mes_core::DatabaseConfig::from_url(
        &url,
        mes_core::config::ConfigSource::Environment,
        "test",
    )
    .expect("config");
    with_app(mes_core::Registry::connect_lazy(&config), |app| {
        let query = json!({ "query": { "sort": "machine_name", "direction": "asc", "statuses": [],
            "machine_type": null, "search": null, "limit": 10, "offset": 0 } });
        let error = app.invoke("list_machines", query).expect_err("unavailable");
        assert_eq!(error["kind"], "DatabaseUnavailable");
        assert!(!error.to_string().contains("TopSecret9"));
        let status = app.invoke("database_status", json!({})).expect("status");
        assert_eq!(status["health"]["state"], "unavailable");
        assert!(!status.to_string().contains("TopSecret9"));
    })
    .await;
}

#[tokio::test]
async fn writes_are_queued_while_the_database_is_away() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let url = format!("postgres://op:pw@127.0.0.1:{port}/mes");
    let config = mes_core::DatabaseConfig::from_url(
        &url,
        mes_core::config::ConfigSource::Environment,
        "test",
    )
    .expect("config");
    with_app(mes_core::Registry::connect_lazy(&config), |app| {
        let write =
            json!({ "write_id": new_id(), "uid": new_id(), "machine": machine_json("CNC-009") });
        let outcome = app
            .invoke("create_machine", json!({ "write": write }))
            .expect("queued");
        assert_eq!(outcome, json!({ "outcome": "queued", "pending": 1 }));

        let mut bad = machine_json("CNC-010");
        bad["efficiency"] = json!(-5);
        let write = json!({ "write_id": new_id(), "uid": new_id(), "machine": bad });
        let error = app
            .invoke("create_machine", json!({ "write": write }))
            .expect_err("still validated");
        assert_eq!(error["kind"], "Validation");

        let status = app.invoke("sync_status", json!({})).expect("status");
        assert_eq!(
            (status["connection"].clone(), status["pending"].clone()),
            (json!("offline"), json!(1))
        );
        let entries = app.invoke("outbox_entries", json!({})).expect("entries");
        assert_eq!(entries[0]["write"]["kind"], "create");
        assert_eq!(
            entries[0]["write"]["write"]["machine"]["machine_name"],
            "CNC-009"
        );
        assert_eq!(entries[0]["conflict"], Value::Null);
        // Pending writes cannot be discarded (only those that needed attention).
        let discarded = app
            .invoke("discard_write", json!({ "seq": entries[0]["seq"] }))
            .expect("discard");
        assert_eq!(discarded, json!(false));
    })
    .await;
}

/// A queued edit that met someone else's change needs attention; the window retries it on top of
/// their version through `retry_write`, and a retry or discard of a write no longer waiting
/// answers `false` (the window then says so).
#[sqlx::test(migrations = "../migrations")]
async fn a_write_needing_attention_is_retried_through_ipc(pool: PgPool) {
    let online = registry(pool.clone());
    let uid = uuid::Uuid::new_v4();
    let created = online
        .create_machine(&mes_core::domain::CreateMachine {
            write_id: uuid::Uuid::new_v4(),
            uid,
            machine: serde_json::from_value(machine_json("CNC-001")).expect("input"),
        })
        .await
        .expect("create");
    sqlx::query("UPDATE machines SET efficiency = 1 WHERE uid = $1")
        .bind(uid)
        .execute(&pool)
        .await
        .expect("another tool");
    let synced = synced(registry(pool.clone())).await;
    let mut mine = machine_json("CNC-001");
    mine["efficiency"] = json!(66);
    let stale: mes_core::sync::QueuedWrite = serde_json::from_value(json!({
        "kind": "update",
        "write": { "write_id": new_id(), "uid": uid, "expected_version": created.version, "machine": mine }
    }))
    .expect("write");
    synced.outbox().enqueue(stale).await.expect("queued");
    let report = mes_core::sync::replay(synced.registry(), synced.outbox())
        .await
        .expect("replay");
    assert_eq!(report.conflicts, 1);
    let synced = tokio::task::spawn_blocking(move || {
        let app = MockApp::new(synced);
        let entries = app.invoke("outbox_entries", json!({})).expect("entries");
        assert_eq!(entries[0]["conflict"]["reason"], "changed_since");
        let seq = entries[0]["seq"].clone();
        let theirs = entries[0]["conflict"]["current"]["version"].clone();
        let retry = json!({
            "kind": "update",
            "write": { "write_id": new_id(), "uid": uid, "expected_version": theirs, "machine": mine }
        });
        let retried = app
            .invoke("retry_write", json!({ "seq": seq, "write": retry }))
            .expect("retry");
        assert_eq!(retried, json!(true));
        // Pending again, so neither a second retry nor a discard finds it.
        let again = app
            .invoke("retry_write", json!({ "seq": seq, "write": retry }))
            .expect("retry");
        assert_eq!(again, json!(false));
        let discarded = app
            .invoke("discard_write", json!({ "seq": seq }))
            .expect("discard");
        assert_eq!(discarded, json!(false));
        app.synced()
    })
    .await
    .expect("test thread");
    let report = mes_core::sync::replay(synced.registry(), synced.outbox())
        .await
        .expect("replay");
    assert_eq!((report.applied, report.conflicts), (1, 0));
    let stored = online.get_machine(uid).await.expect("machine");
    assert_eq!(stored.efficiency, Some(66.0), "mine, on top of theirs");
}
