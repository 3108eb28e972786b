//! Whose outbox is whose: an earlier version's single outbox is adopted whole (its log written
//! into the file first) and nothing of it is left behind; the owner of an outbox names the
//! server as configured, so it does not change with what exists on this PC at start.

use mes_core::config::{ConfigSource, DatabaseConfig};
use mes_core::session;
use mes_core::sync::Outbox;
use uuid::Uuid;

use crate::sync::queued_status;

#[tokio::test]
async fn an_earlier_versions_outbox_is_adopted_whole() {
    let dir = std::env::temp_dir().join(format!("mes-adopt-{}", Uuid::new_v4()));
    let legacy = dir.join(session::LEGACY_OUTBOX);
    let outbox = Outbox::open(&legacy).await.unwrap();
    for _ in 0..3 {
        outbox
            .enqueue(queued_status(Uuid::new_v4(), "Down"))
            .await
            .unwrap();
    }
    // Still open when the old version was killed: the writes may sit in the log only.
    drop(outbox);

    let config = DatabaseConfig::resolve(
        Some("postgres://alice:pw@db.plant:5432/mes?sslmode=verify-full".into()),
        None,
    )
    .unwrap();
    let path = session::outbox_path(&dir, &config);
    assert!(session::adopt_legacy_outbox(&dir, &path).await.unwrap());
    assert!(
        !session::adopt_legacy_outbox(&dir, &path).await.unwrap(),
        "once"
    );
    let adopted = Outbox::open(&path).await.unwrap();
    assert_eq!(adopted.pending_count().await.unwrap(), 3, "nothing lost");
    adopted.claim(&session::owner(&config)).await.unwrap();
    adopted.close().await;
    let left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("outbox.") || name.starts_with("outbox-cache"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_owner_names_the_server_as_configured() {
    let config =
        DatabaseConfig::resolve(Some("postgres://alice:pw@db.plant:6543/mes".into()), None)
            .unwrap();
    assert_eq!(session::owner(&config), "alice@db.plant:6543/mes");
    let bob = config.for_user("bob", None).unwrap();
    assert_eq!(session::owner(&bob), "bob@db.plant:6543/mes");
    assert_ne!(
        session::outbox_path(std::path::Path::new("/d"), &config),
        session::outbox_path(std::path::Path::new("/d"), &bob)
    );
    // No host given: the owner does not depend on whether a socket exists right now.
    if std::env::var_os("PGHOST").is_none() && std::env::var_os("PGHOSTADDR").is_none() {
        let local = DatabaseConfig::from_url(
            "postgres:///mes?user=carol",
            ConfigSource::Environment,
            "test",
        )
        .unwrap();
        assert!(
            session::owner(&local).starts_with("carol@(default):"),
            "{}",
            session::owner(&local)
        );
    }
}
