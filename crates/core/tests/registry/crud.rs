use mes_core::domain::OperationalStatus;
use mes_core::RegistryError;
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::*;

#[sqlx::test(migrations = "../../migrations")]
async fn create_stores_trimmed_fields_and_get_returns_them(pool: PgPool) {
    let registry = registry(pool);
    let mut raw = input("  CNC-001 ");
    raw.machine_type = " Milling Machine ".into();
    let write = create_write(raw);
    let created = registry.create_machine(&write).await.unwrap();
    assert_eq!(created.uid, write.uid);
    assert_eq!(created.machine_name, "CNC-001");
    assert_eq!(created.machine_type, "Milling Machine");
    assert_eq!(created.operational_status, OperationalStatus::Running);
    assert_eq!(created.efficiency, Some(85.5));
    assert_eq!(
        created.last_maintenance.unwrap().to_rfc3339(),
        "2024-01-10T08:00:00+00:00"
    );
    assert_eq!(created.version, 1);
    assert_eq!(registry.get_machine(write.uid).await.unwrap(), created);
}

#[sqlx::test(migrations = "../../migrations")]
async fn update_replaces_all_fields_and_advances_version(pool: PgPool) {
    let registry = registry(pool);
    let created = create(&registry, "ROB-002").await;
    let mut changed = input("ROB-002b");
    changed.machine_type = "Robot Arm".into();
    changed.operational_status = "Idle".into();
    changed.efficiency = Some(92.0);
    changed.last_maintenance = "2024-01-09T14:30:00Z".into();
    let updated = registry
        .update_machine(&update_write(&created, changed))
        .await
        .unwrap();
    assert_eq!(updated.machine_name, "ROB-002b");
    assert_eq!(updated.machine_type, "Robot Arm");
    assert_eq!(updated.operational_status, OperationalStatus::Idle);
    assert_eq!(updated.efficiency, Some(92.0));
    assert_eq!(updated.version, created.version + 1);
    assert!(updated.updated_at >= created.updated_at);
    assert_eq!(updated.created_at, created.created_at);
    assert_eq!(registry.get_machine(created.uid).await.unwrap(), updated);
}

#[sqlx::test(migrations = "../../migrations")]
async fn set_status_changes_only_the_status(pool: PgPool) {
    let registry = registry(pool);
    let created = create(&registry, "ASM-003").await;
    let changed = registry
        .set_machine_status(&status_write(created.uid, "Maintenance"))
        .await
        .unwrap();
    assert_eq!(changed.operational_status, OperationalStatus::Maintenance);
    assert_eq!(changed.version, created.version + 1);
    assert_eq!(changed.machine_name, created.machine_name);
    assert_eq!(changed.efficiency, created.efficiency);
}

#[sqlx::test(migrations = "../../migrations")]
async fn delete_returns_the_machine_and_it_is_gone(pool: PgPool) {
    let registry = registry(pool);
    let created = create(&registry, "CNC-004").await;
    let deleted = registry
        .delete_machine(&delete_write(&created))
        .await
        .unwrap();
    assert_eq!(deleted, created);
    assert!(matches!(
        registry.get_machine(created.uid).await,
        Err(RegistryError::NotFound { uid }) if uid == created.uid
    ));
}

#[sqlx::test(migrations = "../../migrations")]
async fn unknown_machine_is_not_found_for_every_operation(pool: PgPool) {
    let registry = registry(pool);
    let ghost = create(&registry, "GHOST").await;
    let mut missing = ghost.clone();
    missing.uid = Uuid::new_v4();
    let before = snapshot(registry.pool()).await;
    let not_found = |r: Result<_, RegistryError>| matches!(r, Err(RegistryError::NotFound { .. }));
    assert!(not_found(registry.get_machine(missing.uid).await));
    assert!(not_found(
        registry
            .update_machine(&update_write(&missing, input("X")))
            .await
    ));
    assert!(not_found(
        registry
            .set_machine_status(&status_write(missing.uid, "Down"))
            .await
    ));
    assert!(not_found(
        registry.delete_machine(&delete_write(&missing)).await
    ));
    assert_eq!(snapshot(registry.pool()).await, before);
}
