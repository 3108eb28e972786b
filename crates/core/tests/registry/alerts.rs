//! Alerts against a real PostgreSQL: raised from the history for changes by anyone (a plain SQL
//! client here), never twice (a restart reads the same rows again), gathered into one desktop
//! notification when many arrive at once, not lost when changes commit out of id order, and
//! for machines that become overdue.

use std::sync::Arc;

use mes_core::domain::{AlertKind, AlertSettings};
use mes_core::sync::{AlertWatch, Outbox, SyncedRegistry};
use sqlx::{Connection, PgConnection, PgPool};

use crate::support::*;
use crate::sync::outbox_path;

async fn synced(pool: &PgPool, path: &std::path::Path) -> SyncedRegistry {
    SyncedRegistry::new(
        Arc::new(registry(pool.clone())),
        Outbox::open(path).await.unwrap(),
    )
}

/// A connection as another tool makes it: its own application name.
async fn psql(pool: &PgPool) -> PgConnection {
    let options = pool
        .connect_options()
        .as_ref()
        .clone()
        .application_name("psql");
    PgConnection::connect_with(&options).await.unwrap()
}

async fn sql(conn: &mut PgConnection, statement: &str) {
    sqlx::query(statement).execute(&mut *conn).await.unwrap();
}

#[sqlx::test(migrations = "../../migrations")]
async fn changes_by_another_tool_raise_alerts_once(pool: PgPool) {
    let path = outbox_path();
    let synced = synced(&pool, &path).await;
    create(synced.registry(), "CNC-001").await;
    create(synced.registry(), "ROB-002").await;
    sql(
        &mut psql(&pool).await,
        "UPDATE machines SET efficiency = 95",
    )
    .await;

    // The first look begins the watch: nothing before it is an alert.
    let mut watch = AlertWatch::default();
    let first = synced.look_for_alerts(&mut watch).await.unwrap();
    assert_eq!(first.new_alerts, 0);

    let mut other = psql(&pool).await;
    sql(
        &mut other,
        "UPDATE machines SET operational_status = 'Down' WHERE machine_name = 'CNC-001'",
    )
    .await;
    sql(
        &mut other,
        "UPDATE machines SET efficiency = 62.5 WHERE machine_name = 'ROB-002'",
    )
    .await;
    sql(
        &mut other,
        "UPDATE machines SET efficiency = 60 WHERE machine_name = 'ROB-002'",
    )
    .await;
    let news = synced
        .look_for_alerts(&mut AlertWatch::default())
        .await
        .unwrap();
    assert_eq!(
        news.new_alerts, 2,
        "Down, and one fall below target (not each change below)"
    );
    assert_eq!(news.notices.len(), 2);
    let list = synced.alerts().await.unwrap();
    assert_eq!(list.unread, 2);
    let messages: Vec<&str> = list.alerts.iter().map(|a| a.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "ROB-002: efficiency fell to 62.5 % (target 85 %)",
            "CNC-001 went Down"
        ]
    );
    let by = list.alerts[1].by.as_deref().unwrap();
    assert!(by.ends_with("(psql)"), "{by}");

    // A restart (a new watch over the same outbox) reads from where it stood: nothing twice.
    synced.outbox().shutdown().await;
    let again = self::synced(&pool, &path).await;
    let news = again
        .look_for_alerts(&mut AlertWatch::default())
        .await
        .unwrap();
    assert_eq!(news.new_alerts, 0);
    let list = again.mark_alerts_read(list.alerts[0].id).await.unwrap();
    assert_eq!((list.alerts.len(), list.unread), (2, 0));
}

#[sqlx::test(migrations = "../../migrations")]
async fn fifty_machines_down_at_once_make_one_notification(pool: PgPool) {
    let path = outbox_path();
    let synced = synced(&pool, &path).await;
    for i in 0..50 {
        create(synced.registry(), &format!("M-{i:02}")).await;
    }
    let mut watch = AlertWatch::default();
    synced.look_for_alerts(&mut watch).await.unwrap();
    sql(
        &mut psql(&pool).await,
        "UPDATE machines SET operational_status = 'Down'",
    )
    .await;
    let news = synced
        .look_for_alerts(&mut AlertWatch::default())
        .await
        .unwrap();
    assert_eq!(news.new_alerts, 50);
    assert_eq!(news.notices.len(), 1);
    assert_eq!(news.notices[0].title, "50 new alerts");
    assert!(news.notices[0].body.starts_with("50 machines went Down"));
}

#[sqlx::test(migrations = "../../migrations")]
async fn notifications_wait_for_a_quiet_moment_and_skip_own_changes(pool: PgPool) {
    let path = outbox_path();
    let synced = synced(&pool, &path).await;
    let a = create(synced.registry(), "A").await;
    create(synced.registry(), "B").await;
    let mut watch = AlertWatch::default();
    synced.look_for_alerts(&mut watch).await.unwrap();

    // This user's own change through the app: listed, not notified.
    synced
        .registry()
        .set_machine_status(&status_write(a.uid, "Down"))
        .await
        .unwrap();
    let mut other = psql(&pool).await;
    sql(
        &mut other,
        "UPDATE machines SET operational_status = 'Down' WHERE machine_name = 'B'",
    )
    .await;
    let news = synced.look_for_alerts(&mut watch).await.unwrap();
    assert_eq!(news.new_alerts, 2);
    assert_eq!(news.notices.len(), 1, "{:?}", news.notices);
    assert_eq!(news.notices[0].body, "B went Down");

    // Right after a round: the next alert is held for the next one.
    sql(
        &mut other,
        "UPDATE machines SET operational_status = 'Running' WHERE machine_name = 'B'",
    )
    .await;
    sql(
        &mut other,
        "UPDATE machines SET operational_status = 'Down' WHERE machine_name = 'B'",
    )
    .await;
    let news = synced.look_for_alerts(&mut watch).await.unwrap();
    assert_eq!((news.new_alerts, news.notices.len()), (1, 0));

    // Desktop notifications switched off: alerts are still listed.
    let settings = AlertSettings {
        desktop: false,
        ..AlertSettings::default()
    };
    synced.set_alert_settings(settings).await.unwrap();
    sql(
        &mut other,
        "UPDATE machines SET operational_status = 'Idle' WHERE machine_name = 'B'",
    )
    .await;
    sql(
        &mut other,
        "UPDATE machines SET operational_status = 'Down' WHERE machine_name = 'B'",
    )
    .await;
    let news = synced
        .look_for_alerts(&mut AlertWatch::default())
        .await
        .unwrap();
    assert_eq!((news.new_alerts, news.notices.len()), (1, 0));
    assert_eq!(synced.alerts().await.unwrap().alerts.len(), 4);

    // A bad target is refused and changes nothing.
    let bad = AlertSettings {
        efficiency_target: 120.0,
        ..AlertSettings::default()
    };
    assert!(synced.set_alert_settings(bad).await.is_err());
    assert!(!synced.alert_settings().await.unwrap().desktop);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_change_committed_after_a_later_one_is_not_lost(pool: PgPool) {
    let path = outbox_path();
    let synced = synced(&pool, &path).await;
    create(synced.registry(), "EARLY").await;
    create(synced.registry(), "LATE").await;
    let mut watch = AlertWatch::default();
    synced.look_for_alerts(&mut watch).await.unwrap();

    // EARLY's change takes its history id first but commits last.
    let mut slow = psql(&pool).await;
    let mut tx = slow.begin().await.unwrap();
    sqlx::query("UPDATE machines SET operational_status = 'Down' WHERE machine_name = 'EARLY'")
        .execute(&mut *tx)
        .await
        .unwrap();
    sql(
        &mut psql(&pool).await,
        "UPDATE machines SET operational_status = 'Down' WHERE machine_name = 'LATE'",
    )
    .await;
    let news = synced.look_for_alerts(&mut watch).await.unwrap();
    assert_eq!(news.new_alerts, 1);
    tx.commit().await.unwrap();
    let news = synced.look_for_alerts(&mut watch).await.unwrap();
    assert_eq!(news.new_alerts, 1, "the late commit is still seen");
    let names: Vec<String> = synced
        .alerts()
        .await
        .unwrap()
        .alerts
        .into_iter()
        .map(|a| a.machine_name)
        .collect();
    assert_eq!(names, ["EARLY", "LATE"]);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_machine_becoming_overdue_is_an_alert(pool: PgPool) {
    let path = outbox_path();
    let synced = synced(&pool, &path).await;
    create(synced.registry(), "PRESS-1").await;
    create(synced.registry(), "PRESS-2").await;
    let mut other = psql(&pool).await;
    sql(&mut other, "INSERT INTO maintenance_type_intervals (machine_type, interval_days, updated_by) SELECT DISTINCT machine_type, 30, 'test' FROM machines").await;
    // PRESS-1 is overdue before the watch begins (not an alert); PRESS-2 is not.
    sql(
        &mut other,
        "UPDATE machines SET last_maintenance = now() - interval '1 day' WHERE machine_name = 'PRESS-2'",
    )
    .await;
    sql(&mut other, "UPDATE machines SET last_maintenance = now() - interval '40 days' WHERE machine_name = 'PRESS-1'").await;
    synced
        .look_for_alerts(&mut AlertWatch::default())
        .await
        .unwrap();

    // Another tool moves PRESS-2's last maintenance back: it is overdue now.
    sql(&mut other, "UPDATE machines SET last_maintenance = now() - interval '31 days' WHERE machine_name = 'PRESS-2'").await;
    let news = synced
        .look_for_alerts(&mut AlertWatch::default())
        .await
        .unwrap();
    assert_eq!(news.new_alerts, 1);
    let alert = &synced.alerts().await.unwrap().alerts[0];
    assert_eq!(alert.kind, AlertKind::Overdue);
    assert!(
        alert
            .message
            .starts_with("PRESS-2: maintenance overdue since "),
        "{}",
        alert.message
    );

    // Still overdue at the next look: no second alert.
    let news = synced
        .look_for_alerts(&mut AlertWatch::default())
        .await
        .unwrap();
    assert_eq!(news.new_alerts, 0);
}
