//! Who is working: each user's offline writes stay theirs. A write made offline by one user is
//! never sent while another is signed in, and is sent (as its author, by the server's own
//! `session_user`) when its author signs in again. Sign-in with a wrong password changes nothing;
//! sign-out forgets the user; the config file never holds a password.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mes_app_lib::state::{active, Session};
use mes_app_lib::AppState;
use mes_core::config::ConnectionSettings;
use mes_core::domain::{CreateMachine, MachineInput};
use mes_core::sync::WriteOutcome;
use mes_core::{schema, session, settings_file};
use sqlx::PgPool;

use crate::proxy::Proxy;
use crate::support::registry;

async fn user(pool: &PgPool, group: &str) -> String {
    let name = format!("s_{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    sqlx::query(&format!(
        "CREATE ROLE {name} LOGIN PASSWORD 'pw-{name}' IN ROLE {group}"
    ))
    .execute(pool)
    .await
    .unwrap();
    name
}

fn settings(pool: &PgPool, port: u16) -> ConnectionSettings {
    let options = pool.connect_options();
    ConnectionSettings {
        host: options.get_host().to_owned(),
        port,
        database: options.get_database().unwrap_or("postgres").to_owned(),
        sslrootcert: None,
        allow_insecure: false,
        pgbouncer: false,
    }
}

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn signed_in_user(state: &AppState) -> Option<String> {
    match &*state.session().await {
        Session::Active(live) => Some(live.config.user().to_owned()),
        _ => None,
    }
}

async fn machines_named(pool: &PgPool, name: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM machines WHERE machine_name = $1")
        .bind(name)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn offline_writes_are_sent_as_their_author_only(pool: PgPool) {
    schema::grant_roles(registry(pool.clone()).db())
        .await
        .unwrap();
    let alice = user(&pool, "mes_operator").await;
    let bob = user(&pool, "mes_operator").await;
    let pw = |name: &str| format!("pw-{name}");
    let home = std::env::temp_dir().join(format!("mes-session-{}", uuid::Uuid::new_v4()));
    let config_file = home.join("config").join("config.toml");
    let data_dir = home.join("data");
    // The network between the PC and the server: cut and restored by the test.
    let server: std::net::SocketAddr = format!("127.0.0.1:{}", pool.connect_options().get_port())
        .parse()
        .unwrap();
    let network = Proxy::start(server).await;
    settings_file::save_settings(&config_file, &settings(&pool, network.port)).unwrap();

    // Nothing names a user yet: nobody is signed in.
    let state = AppState::new(config_file.clone(), data_dir.clone());
    state.start(Arc::new(|_| {})).await;
    assert!(signed_in_user(&state).await.is_none());

    // Alice and Bob have each signed in once on this PC, the server checking them.
    for name in [&alice, &bob] {
        let note = state.sign_in(name, Some(&pw(name)), false).await.unwrap();
        assert_eq!(note, None);
    }

    // The network goes. Someone who never signed in here cannot start offline; a wrong
    // password for Alice is refused; hers is checked against her last sign-in and accepted.
    network.down();
    let stranger = state
        .sign_in("mallory", Some("guess"), false)
        .await
        .unwrap_err();
    assert!(
        format!("{stranger:?}").contains("has not signed in on this PC before"),
        "{stranger:?}"
    );
    let wrong = state
        .sign_in(&alice, Some("guess"), false)
        .await
        .unwrap_err();
    assert!(format!("{wrong:?}").contains("SignInRefused"), "{wrong:?}");
    assert_eq!(
        signed_in_user(&state).await.as_deref(),
        Some(bob.as_str()),
        "nothing changed"
    );
    let note = state
        .sign_in(&alice, Some(&pw(&alice)), false)
        .await
        .unwrap();
    assert!(note.is_some_and(|n| n.contains("checked against your last sign-in")));
    assert_eq!(
        signed_in_user(&state).await.as_deref(),
        Some(alice.as_str())
    );

    // Alice enters a machine offline: it waits in her outbox.
    let write = CreateMachine {
        write_id: uuid::Uuid::new_v4(),
        uid: uuid::Uuid::new_v4(),
        machine: MachineInput {
            machine_name: "BY-ALICE".into(),
            machine_type: "Press".into(),
            operational_status: "Idle".into(),
            efficiency: Some(50.0),
            last_maintenance: "2024-01-10T08:00:00Z".into(),
        },
    };
    let outcome = state
        .call(move |s| async move { s.create_machine(write).await })
        .await
        .unwrap();
    assert!(
        matches!(outcome, WriteOutcome::Queued { .. }),
        "{outcome:?}"
    );

    // Bob signs in (still offline): Alice's write is shown as waiting for her.
    state.sign_in(&bob, Some(&pw(&bob)), false).await.unwrap();
    let bobs_outbox = match &*state.session().await {
        Session::Active(live) => live.outbox_path.clone(),
        _ => panic!("bob is signed in"),
    };
    let waiting = session::waiting_elsewhere(&data_dir, &bobs_outbox).await;
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert!(
        waiting[0].owner.starts_with(&format!("{alice}@")),
        "{waiting:?}"
    );
    assert_eq!(waiting[0].pending, 1);

    // The network is back. Bob's session syncs; Alice's write is not sent under his name.
    network.up();
    let started = Instant::now();
    loop {
        let status = state.call(|s| async move { Ok(s.status()) }).await.unwrap();
        if status.connection == mes_core::sync::Connection::Online {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "bob's session came online"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        machines_named(&pool, "BY-ALICE").await,
        0,
        "not sent as bob"
    );

    // A wrong password is refused by the server and changes nothing.
    let refused = state
        .sign_in(&alice, Some("wrong"), false)
        .await
        .unwrap_err();
    assert!(
        format!("{refused:?}").contains("refused this user name or password"),
        "{refused:?}"
    );
    assert_eq!(signed_in_user(&state).await.as_deref(), Some(bob.as_str()));

    // Alice signs in: her write is sent, as her, once.
    state
        .sign_in(&alice, Some(&pw(&alice)), false)
        .await
        .unwrap();
    let started = Instant::now();
    while machines_named(&pool, "BY-ALICE").await == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "alice's write was not sent"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let author: String = sqlx::query_scalar(
        "SELECT db_user FROM machine_history WHERE operation = 'insert' AND machine_uid = (SELECT uid FROM machines WHERE machine_name = 'BY-ALICE')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(author, alice);
    assert_eq!(machines_named(&pool, "BY-ALICE").await, 1, "sent once");

    // Settings pointing at another server never receive Alice's outbox or password: the next
    // start asks who is working (nothing remembered for that server).
    state
        .save_connection(&settings(&pool, closed_port()))
        .await
        .unwrap();
    assert!(signed_in_user(&state).await.is_none());

    // Sign-out forgets the user; the file never held a password.
    state.sign_out().await;
    assert!(active(&*state.session().await).is_err());
    let file = std::fs::read_to_string(&config_file).unwrap();
    assert!(!file.contains("pw-"), "{file}");
    assert!(!file.contains(&alice), "{file}");
    assert!(settings_file::warnings(&config_file).is_empty());
    let _ = std::fs::remove_dir_all(&home);
}
