use mes_core::RegistryError;
use sqlx::PgPool;

use crate::support::*;

#[sqlx::test(migrations = "../../migrations")]
async fn two_clients_updating_the_same_version_exactly_one_wins(pool: PgPool) {
    let registry = std::sync::Arc::new(registry(pool.clone()));
    for round in 0..10 {
        let machine = create(&registry, &format!("RACE-{round}")).await;
        let mut a = input(&format!("RACE-{round}"));
        a.efficiency = Some(10.0);
        let mut b = input(&format!("RACE-{round}"));
        b.efficiency = Some(20.0);
        let (write_a, write_b) = (update_write(&machine, a), update_write(&machine, b));
        // Both wait on the machine's row, held by a third session, so they truly overlap.
        let both = registry.clone();
        let lock = format!(
            "SELECT 1 FROM machines WHERE uid = '{}' FOR UPDATE",
            machine.uid
        );
        let (first, second) = overlapping(&pool, &lock, 2, async move {
            tokio::join!(both.update_machine(&write_a), both.update_machine(&write_b))
        })
        .await;
        let (winner, loser) = match (first, second) {
            (Ok(w), Err(l)) | (Err(l), Ok(w)) => (w, l),
            other => panic!("round {round}: expected one winner, got {other:?}"),
        };
        assert_eq!(winner.version, machine.version + 1);
        match loser {
            RegistryError::StaleVersion { expected, current } => {
                assert_eq!(expected, machine.version);
                assert_eq!(*current, winner, "the loser is shown the winner's values");
            }
            other => panic!("round {round}: loser got {other:?}"),
        }
        let stored = registry.get_machine(machine.uid).await.unwrap();
        assert_eq!(stored, winner);
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn update_and_delete_from_an_old_version_are_stale(pool: PgPool) {
    let registry = registry(pool);
    let original = create(&registry, "CNC-001").await;
    let moved_on = registry
        .set_machine_status(&status_write(original.uid, "Down"))
        .await
        .unwrap();
    let before = snapshot(registry.pool()).await;
    let stale = |r: Result<_, RegistryError>| match r {
        Err(RegistryError::StaleVersion { expected, current }) => {
            assert_eq!(expected, original.version);
            assert_eq!(*current, moved_on);
        }
        other => panic!("{other:?}"),
    };
    stale(
        registry
            .update_machine(&update_write(&original, input("CNC-001")))
            .await,
    );
    stale(registry.delete_machine(&delete_write(&original)).await);
    assert_eq!(snapshot(registry.pool()).await, before);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_change_by_another_tool_advances_the_version(pool: PgPool) {
    let registry = registry(pool.clone());
    let machine = create(&registry, "CNC-001").await;
    sqlx::query("UPDATE machines SET efficiency = 12 WHERE machine_name = 'CNC-001'")
        .execute(&pool)
        .await
        .unwrap();
    let current = registry.get_machine(machine.uid).await.unwrap();
    assert_eq!(current.version, machine.version + 1);
    assert!(matches!(
        registry
            .update_machine(&update_write(&machine, input("CNC-001")))
            .await,
        Err(RegistryError::StaleVersion { .. })
    ));
    // An UPDATE that changes nothing is not a change: no new version, no false conflict.
    sqlx::query("UPDATE machines SET efficiency = 12 WHERE machine_name = 'CNC-001'")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        registry.get_machine(machine.uid).await.unwrap().version,
        current.version
    );
}
