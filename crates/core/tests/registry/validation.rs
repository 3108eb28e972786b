//! Every kind of bad input the tutorial answered with a 500 or stored as garbage: each gets a
//! clear error on the right field and changes nothing.

use mes_core::domain::{ListQuery, MachineInput};
use mes_core::{FieldError, RegistryError};
use sqlx::PgPool;

use crate::support::*;

fn fields(result: Result<impl std::fmt::Debug, RegistryError>) -> Vec<String> {
    match result {
        Err(RegistryError::Validation(errors)) => {
            errors
                .iter()
                .for_each(|FieldError { message, .. }| assert!(!message.is_empty()));
            errors.into_iter().map(|e| e.field).collect()
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn with(change: impl Fn(&mut MachineInput)) -> MachineInput {
    let mut machine = input("NEW-001");
    change(&mut machine);
    machine
}

#[sqlx::test(migrations = "../../migrations")]
async fn bad_fields_are_refused_on_create_and_update_changing_nothing(pool: PgPool) {
    let registry = registry(pool);
    let existing = create(&registry, "CNC-001").await;
    let cases: Vec<(&str, MachineInput)> = vec![
        ("efficiency", with(|m| m.efficiency = Some(f64::NAN))),
        ("efficiency", with(|m| m.efficiency = Some(f64::INFINITY))),
        (
            "efficiency",
            with(|m| m.efficiency = Some(f64::NEG_INFINITY)),
        ),
        ("efficiency", with(|m| m.efficiency = Some(-5.0))),
        ("efficiency", with(|m| m.efficiency = Some(250.0))),
        ("efficiency", with(|m| m.efficiency = None)),
        (
            "operational_status",
            with(|m| m.operational_status = "Exploded".into()),
        ),
        (
            "operational_status",
            with(|m| m.operational_status = "running".into()),
        ),
        (
            "operational_status",
            with(|m| m.operational_status = String::new()),
        ),
        ("machine_name", with(|m| m.machine_name = String::new())),
        ("machine_name", with(|m| m.machine_name = "   \t ".into())),
        ("machine_name", with(|m| m.machine_name = "CNC\0-9".into())),
        ("machine_name", with(|m| m.machine_name = "N".repeat(101))),
        ("machine_type", with(|m| m.machine_type = " ".into())),
        ("machine_type", with(|m| m.machine_type = "Lathe\0".into())),
        (
            "last_maintenance",
            with(|m| m.last_maintenance = "2024-01-10T08:00:00+05:00".into()),
        ),
        (
            "last_maintenance",
            with(|m| m.last_maintenance = "2024-01-10T08:00:00".into()),
        ),
        (
            "last_maintenance",
            with(|m| m.last_maintenance = "2024-13-45T99:00:00Z".into()),
        ),
        (
            "last_maintenance",
            with(|m| m.last_maintenance = "2999-01-01T00:00:00Z".into()),
        ),
        (
            "last_maintenance",
            with(|m| m.last_maintenance = String::new()),
        ),
    ];
    let before = snapshot(registry.pool()).await;
    for (field, machine) in cases {
        let created = registry
            .create_machine(&create_write(machine.clone()))
            .await;
        assert_eq!(fields(created), [field], "create {machine:?}");
        let updated = registry
            .update_machine(&update_write(&existing, machine.clone()))
            .await;
        assert_eq!(fields(updated), [field], "update {machine:?}");
    }
    assert_eq!(snapshot(registry.pool()).await, before);
}

#[sqlx::test(migrations = "../../migrations")]
async fn several_bad_fields_are_reported_together(pool: PgPool) {
    let registry = registry(pool);
    let machine = MachineInput {
        machine_name: "".into(),
        machine_type: "".into(),
        operational_status: "Exploded".into(),
        efficiency: Some(250.0),
        last_maintenance: "soon".into(),
    };
    let result = registry.create_machine(&create_write(machine)).await;
    assert_eq!(
        fields(result),
        [
            "machine_name",
            "machine_type",
            "operational_status",
            "efficiency",
            "last_maintenance"
        ]
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn offset_timestamp_error_names_the_utc_instant(pool: PgPool) {
    let registry = registry(pool);
    let machine = with(|m| m.last_maintenance = "2024-01-10T08:00:00+05:00".into());
    match registry.create_machine(&create_write(machine)).await {
        Err(RegistryError::Validation(errors)) => {
            assert!(
                errors[0].message.contains("2024-01-10T03:00:00Z"),
                "{:?}",
                errors[0]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn duplicate_names_are_refused_ignoring_case_and_spaces(pool: PgPool) {
    let registry = registry(pool);
    let first = create(&registry, "CNC-001").await;
    let second = create(&registry, "CNC-002").await;
    let before = snapshot(registry.pool()).await;
    for name in ["CNC-001", "cnc-001", "  Cnc-001 "] {
        match registry.create_machine(&create_write(input(name))).await {
            Err(RegistryError::DuplicateName { name: taken }) => assert_eq!(taken, name.trim()),
            other => panic!("create {name:?}: {other:?}"),
        }
        match registry
            .update_machine(&update_write(&second, input(name)))
            .await
        {
            Err(RegistryError::DuplicateName { .. }) => {}
            other => panic!("update {name:?}: {other:?}"),
        }
    }
    assert_eq!(snapshot(registry.pool()).await, before);
    // Renaming a machine to its own name in another case is not a clash.
    let renamed = registry
        .update_machine(&update_write(&first, input("cnc-001")))
        .await
        .unwrap();
    assert_eq!(renamed.machine_name, "cnc-001");
}

#[sqlx::test(migrations = "../../migrations")]
async fn bad_status_change_is_refused(pool: PgPool) {
    let registry = registry(pool);
    let machine = create(&registry, "CNC-001").await;
    let before = snapshot(registry.pool()).await;
    for status in ["Exploded", "down", "", "Down\0"] {
        let result = registry
            .set_machine_status(&status_write(machine.uid, status))
            .await;
        assert_eq!(fields(result), ["status"], "{status:?}");
    }
    assert_eq!(snapshot(registry.pool()).await, before);
}

#[sqlx::test(migrations = "../../migrations")]
async fn bad_page_sizes_offsets_and_filters_are_refused(pool: PgPool) {
    let registry = registry(pool);
    let cases: Vec<(&str, ListQuery)> = vec![
        (
            "limit",
            ListQuery {
                limit: -5,
                ..ListQuery::default()
            },
        ),
        (
            "limit",
            ListQuery {
                limit: 0,
                ..ListQuery::default()
            },
        ),
        (
            "limit",
            ListQuery {
                limit: 501,
                ..ListQuery::default()
            },
        ),
        (
            "limit",
            ListQuery {
                limit: i64::MAX,
                ..ListQuery::default()
            },
        ),
        (
            "offset",
            ListQuery {
                offset: -1,
                ..ListQuery::default()
            },
        ),
        (
            "offset",
            ListQuery {
                offset: 1_000_000_000_000,
                ..ListQuery::default()
            },
        ),
        (
            "statuses",
            ListQuery {
                statuses: vec!["Exploded".into()],
                ..ListQuery::default()
            },
        ),
        (
            "search",
            ListQuery {
                search: Some("a\0b".into()),
                ..ListQuery::default()
            },
        ),
        (
            "search",
            ListQuery {
                search: Some("x".repeat(200)),
                ..ListQuery::default()
            },
        ),
    ];
    for (field, query) in cases {
        assert_eq!(
            fields(registry.list_machines(&query).await),
            [field],
            "{query:?}"
        );
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_database_itself_refuses_what_validation_would(pool: PgPool) {
    // Other tools write to this table without our validation: the CHECK constraints hold the line.
    let bad_rows = [
        "('X1', 'T', 'Exploded', 50, now())",
        "('X2', 'T', 'Running', 'NaN', now())",
        "('X3', 'T', 'Running', 'Infinity', now())",
        "('X4', 'T', 'Running', -5, now())",
        "('X5', 'T', 'Running', 250, now())",
        "('  ', 'T', 'Running', 50, now())",
        "(' X6', 'T', 'Running', 50, now())",
        "('X7', '', 'Running', 50, now())",
    ];
    for row in bad_rows {
        let sql = format!(
            "INSERT INTO machines (machine_name, machine_type, operational_status, efficiency, last_maintenance) VALUES {row}"
        );
        let err = sqlx::query(&sql).execute(&pool).await.expect_err(row);
        let code = err
            .as_database_error()
            .and_then(|e| e.code())
            .unwrap_or_default();
        assert_eq!(code, "23514", "{row}: {err}");
    }
    sqlx::query("INSERT INTO machines (machine_name, machine_type, operational_status, efficiency, last_maintenance) VALUES ('ab', 'T', 'Idle', 1, now())")
        .execute(&pool).await.unwrap();
    let dup = sqlx::query("INSERT INTO machines (machine_name, machine_type, operational_status, efficiency, last_maintenance) VALUES ('AB', 'T', 'Idle', 1, now())")
        .execute(&pool).await.expect_err("case-insensitive duplicate");
    assert_eq!(
        dup.as_database_error()
            .and_then(|e| e.code())
            .unwrap_or_default(),
        "23505"
    );
}
