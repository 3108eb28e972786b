//! The change history: every change of a machine by anyone, with who, when, through what, the
//! app's write when the app made it, and old → new per field; deletes keep it; append-only.

use std::time::Duration;

use sqlx::PgPool;

use crate::support::*;

#[sqlx::test(migrations = "../../migrations")]
async fn every_change_by_anyone_is_recorded_and_kept(pool: PgPool) {
    let (_proxy, app) = behind_proxy(&pool, Duration::from_secs(2)).await;
    let machine = create(&app, "CNC-001").await;
    let status = status_write(machine.uid, "Down");
    app.set_machine_status(&status).await.unwrap();
    // A plain SQL client (another tool) changes it too; a change that changes nothing is not one.
    let mut other = pool.acquire().await.unwrap();
    sqlx::query("SET application_name = 'psql'")
        .execute(&mut *other)
        .await
        .unwrap();
    for _ in 0..2 {
        sqlx::query("UPDATE machines SET efficiency = 12.5 WHERE uid = $1")
            .bind(machine.uid)
            .execute(&mut *other)
            .await
            .unwrap();
    }
    let current = app.get_machine(machine.uid).await.unwrap();
    let delete = delete_write(&current);
    app.delete_machine(&delete).await.unwrap();

    let history = app.machine_history(machine.uid).await.unwrap();
    let operations: Vec<&str> = history.iter().map(|h| h.operation.as_str()).collect();
    assert_eq!(
        operations,
        ["delete", "update", "update", "insert"],
        "newest first, deleted kept"
    );
    let host = mes_core::config::host_name();
    let (deleted, by_tool, by_app, inserted) = (&history[0], &history[1], &history[2], &history[3]);
    assert_eq!(deleted.write_id, Some(delete.write_id));
    assert!(deleted.application.ends_with(&host));
    assert_eq!(by_tool.application, "psql");
    assert_eq!(by_tool.write_id, None, "not the app's");
    assert_eq!(by_tool.changes.len(), 1);
    assert_eq!(by_tool.changes[0].field, "efficiency");
    assert_eq!(
        (
            by_tool.changes[0].old.as_deref(),
            by_tool.changes[0].new.as_deref()
        ),
        (Some("85.5"), Some("12.5"))
    );
    assert_eq!(by_app.write_id, Some(status.write_id));
    assert_eq!(by_app.changes[0].field, "operational_status");
    assert_eq!(
        (
            by_app.changes[0].old.as_deref(),
            by_app.changes[0].new.as_deref()
        ),
        (Some("Running"), Some("Down"))
    );
    assert_eq!(inserted.changes.len(), 5, "every field, from nothing");
    assert!(inserted.user.len() > 1);
    assert!(history.windows(2).all(|w| w[0].at >= w[1].at));

    // Append-only, whoever asks (the table's owner included).
    for sql in [
        "UPDATE machine_history SET db_user = 'nobody'",
        "DELETE FROM machine_history",
        "TRUNCATE machine_history",
    ] {
        let error = sqlx::query(sql).execute(&pool).await.unwrap_err();
        assert!(error.to_string().contains("append-only"), "{sql}: {error}");
    }
    let unknown = app.machine_history(uuid::Uuid::new_v4()).await.unwrap();
    assert!(unknown.is_empty());
}

/// Another tool connecting as a role with rights on `machines` only keeps writing (the history is
/// written with the owner's rights), and a TRUNCATE records every machine as deleted.
#[sqlx::test(migrations = "../../migrations")]
async fn other_roles_keep_writing_and_a_truncate_is_recorded(pool: PgPool) {
    let online = registry(pool.clone());
    let machine = create(&online, "CNC-001").await;
    let role = format!("tool_{}", uuid::Uuid::new_v4().simple());
    let mut tool = pool.acquire().await.unwrap();
    for sql in [
        format!("CREATE ROLE {role}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON machines TO {role}"),
        format!("GRANT USAGE ON SEQUENCE machines_id_seq TO {role}"),
        format!("SET ROLE {role}"),
        "UPDATE machines SET efficiency = 7 WHERE machine_name = 'CNC-001'".to_owned(),
        "RESET ROLE".to_owned(),
    ] {
        sqlx::query(&sql).execute(&mut *tool).await.unwrap();
    }
    let forged = sqlx::raw_sql(&format!(
        "SET ROLE {role}; INSERT INTO machine_history (machine_id, machine_uid, operation, version, changes) VALUES (1, gen_random_uuid(), 'insert', 1, '{{}}')"
    ))
    .execute(&mut *tool)
    .await;
    assert!(forged.is_err(), "the tool cannot forge history rows");
    sqlx::query("RESET ROLE").execute(&mut *tool).await.unwrap();
    let history = online.machine_history(machine.uid).await.unwrap();
    assert_eq!(history[0].operation, "update");
    assert_eq!(history[0].changes[0].field, "efficiency");

    sqlx::query("TRUNCATE machines")
        .execute(&pool)
        .await
        .unwrap();
    let history = online.machine_history(machine.uid).await.unwrap();
    assert_eq!(history[0].operation, "delete", "the truncate is recorded");
    sqlx::raw_sql(&format!("DROP OWNED BY {role}; DROP ROLE {role}"))
        .execute(&mut *tool)
        .await
        .unwrap();
}
