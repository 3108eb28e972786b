//! `mes-admin status` only reads: pointed at a database the app never touched, it says the
//! schema needs migrating and creates nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sqlx::{Connection, PgConnection};

#[tokio::test]
async fn mes_admin_status_reports_without_migrating() {
    let Ok(server) = std::env::var("DATABASE_URL") else {
        panic!("DATABASE_URL names the test server (make test sets it)");
    };
    let name = format!("mes_admin_status_{}", std::process::id());
    let mut admin = PgConnection::connect(&server).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let (base, _) = server.rsplit_once('/').unwrap();
    let url = format!("{base}/{name}");

    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_mes-admin"))
        .arg("status")
        .env("MES_DATABASE_URL", &url)
        .output()
        .await
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(!output.status.success(), "not up to date: {report}");
    assert_eq!(report["state"], "needs_migration");
    assert_eq!(report["schema"]["database"], 0);

    let mut db = PgConnection::connect(&url).await.unwrap();
    let tables: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert_eq!(tables, 0, "status created nothing");
    db.close().await.unwrap();
    sqlx::query(&format!("DROP DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
}
