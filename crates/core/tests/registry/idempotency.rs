//! A write delivered twice (a retry after a lost answer, a replay after a crash) is applied once.

use mes_core::RegistryError;
use sqlx::PgPool;

use crate::support::*;

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_create_delivered_twice_creates_one_machine(pool: PgPool) {
    let registry = registry(pool.clone());
    let write = create_write(input("CNC-001"));
    let first = registry.create_machine(&write).await.unwrap();
    let second = registry.create_machine(&write).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(count(&pool, "SELECT count(*) FROM machines").await, 1);
    assert_eq!(count(&pool, "SELECT count(*) FROM applied_writes").await, 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn concurrent_deliveries_of_one_create_make_one_machine(pool: PgPool) {
    let registry = std::sync::Arc::new(registry(pool.clone()));
    for round in 0..10 {
        let write = create_write(input(&format!("TWIN-{round}")));
        // Both deliveries wait on the table, held by a third session, and then run together.
        let both = registry.clone();
        let twin = write.clone();
        let (a, b) = overlapping(
            &pool,
            "LOCK TABLE machines IN SHARE ROW EXCLUSIVE MODE",
            2,
            async move { tokio::join!(both.create_machine(&twin), both.create_machine(&twin)) },
        )
        .await;
        assert_eq!(a.unwrap().uid, write.uid, "round {round}");
        assert_eq!(b.unwrap().uid, write.uid, "round {round}");
    }
    assert_eq!(count(&pool, "SELECT count(*) FROM machines").await, 10);
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_update_replayed_is_not_applied_again(pool: PgPool) {
    let registry = registry(pool);
    let machine = create(&registry, "CNC-001").await;
    let mut changed = input("CNC-001");
    changed.efficiency = Some(42.0);
    let write = update_write(&machine, changed);
    let applied = registry.update_machine(&write).await.unwrap();
    // Someone else changes the status; the replay must neither conflict nor undo that change.
    let later = registry
        .set_machine_status(&status_write(machine.uid, "Down"))
        .await
        .unwrap();
    let replayed = registry.update_machine(&write).await.unwrap();
    assert_eq!(replayed, later);
    assert_eq!(applied.version + 1, later.version);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_status_change_replayed_does_not_overwrite_newer_ones(pool: PgPool) {
    let registry = registry(pool);
    let machine = create(&registry, "CNC-001").await;
    let write = status_write(machine.uid, "Idle");
    registry.set_machine_status(&write).await.unwrap();
    let newer = registry
        .set_machine_status(&status_write(machine.uid, "Down"))
        .await
        .unwrap();
    assert_eq!(registry.set_machine_status(&write).await.unwrap(), newer);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_delete_replayed_reports_the_machine_gone_and_touches_nothing_else(pool: PgPool) {
    let registry = registry(pool);
    let machine = create(&registry, "CNC-001").await;
    let other = create(&registry, "CNC-002").await;
    let write = delete_write(&machine);
    registry.delete_machine(&write).await.unwrap();
    let before = snapshot(registry.pool()).await;
    assert!(matches!(
        registry.delete_machine(&write).await,
        Err(RegistryError::NotFound { .. })
    ));
    assert_eq!(snapshot(registry.pool()).await, before);
    assert_eq!(registry.get_machine(other.uid).await.unwrap(), other);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_refused_write_is_not_recorded_and_may_be_retried(pool: PgPool) {
    let registry = registry(pool);
    create(&registry, "CNC-001").await;
    let write = create_write(input("CNC-001"));
    assert!(matches!(
        registry.create_machine(&write).await,
        Err(RegistryError::DuplicateName { .. })
    ));
    // After the other machine is renamed, the same write (same write_id) goes through.
    let first = registry.get_machine_by_name_for_test("CNC-001").await;
    registry
        .update_machine(&update_write(&first, input("CNC-001-old")))
        .await
        .unwrap();
    assert_eq!(
        registry.create_machine(&write).await.unwrap().uid,
        write.uid
    );
}

trait ByName {
    async fn get_machine_by_name_for_test(&self, name: &str) -> mes_core::domain::Machine;
}

impl ByName for mes_core::Registry {
    async fn get_machine_by_name_for_test(&self, name: &str) -> mes_core::domain::Machine {
        let query = mes_core::domain::ListQuery {
            search: Some(name.into()),
            ..Default::default()
        };
        let page = self.list_machines(&query).await.unwrap();
        page.machines
            .into_iter()
            .find(|m| m.machine_name == name)
            .unwrap()
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn applied_write_ids_past_retention_are_forgotten_and_a_late_create_still_makes_no_twin(
    pool: PgPool,
) {
    let registry = registry(pool.clone());
    let old = create_write(input("OLD-001"));
    registry.create_machine(&old).await.unwrap();
    let recent = create_write(input("NEW-001"));
    registry.create_machine(&recent).await.unwrap();
    sqlx::query(
        "UPDATE applied_writes SET applied_at = now() - interval '181 days' WHERE write_id = $1",
    )
    .bind(old.write_id)
    .execute(&pool)
    .await
    .unwrap();

    assert_eq!(registry.prune_applied_writes().await.unwrap(), 1);
    assert_eq!(count(&pool, "SELECT count(*) FROM applied_writes").await, 1);
    assert!(mes_core::repo::write_was_applied(&pool, recent.write_id)
        .await
        .unwrap());
    assert_eq!(registry.prune_applied_writes().await.unwrap(), 0);

    // The forgotten create, delivered again: its name and machine id are taken, so it is
    // refused, not doubled.
    let again = registry.create_machine(&old).await.unwrap_err();
    assert!(
        matches!(
            again,
            RegistryError::DuplicateName { .. } | RegistryError::Validation(_)
        ),
        "{again:?}"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM machines WHERE machine_name = 'OLD-001'"
        )
        .await,
        1
    );
}
