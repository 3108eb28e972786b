//! Least privilege, enforced by PostgreSQL: for each group role `mes-admin roles` makes, every
//! registry command is either allowed or refused by the server with a clear error, and no app
//! role can touch the schema, the history or the record of applied writes. The table this test
//! prints is the one in README "Deploying in a plant".

use std::fmt::Write as _;

use mes_core::domain::ListQuery;
use mes_core::{schema, RegistryError};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::*;

const COMMANDS: [&str; 22] = [
    "list",
    "get",
    "counts",
    "types",
    "fleet",
    "history",
    "reliability",
    "efficiency",
    "plan",
    "log",
    "record-done",
    "plan-machine",
    "plan-type",
    "add-reason",
    "cycle-time",
    "oee",
    "record-shift",
    "create",
    "edit",
    "status",
    "delete",
    "prune",
];

/// What each group may do, command by command (true = allowed).
fn expected(group: &str, command: &str) -> bool {
    let reads = matches!(
        command,
        "list"
            | "get"
            | "counts"
            | "types"
            | "fleet"
            | "history"
            | "reliability"
            | "efficiency"
            | "plan"
            | "log"
            | "oee"
    );
    let planning = matches!(
        command,
        "plan-machine" | "plan-type" | "add-reason" | "cycle-time"
    );
    match group {
        "mes_viewer" => reads,
        "mes_planner" => reads || planning || command == "record-done",
        "mes_operator" => !planning,
        "mes_admin" => true,
        other => panic!("no such group {other}"),
    }
}

/// A login role in `group`, unique to this run (roles are shared by the whole cluster).
pub(crate) async fn user_in(admin: &PgPool, group: &str) -> PgPool {
    let user = format!("t_{}_{}", group, &Uuid::new_v4().simple().to_string()[..8]);
    sqlx::query(&format!(
        "CREATE ROLE {user} LOGIN PASSWORD 'pw' IN ROLE {group}"
    ))
    .execute(admin)
    .await
    .unwrap();
    let options = (*admin.connect_options())
        .clone()
        .username(&user)
        .password("pw");
    PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .unwrap()
}

async fn run(
    registry: &mes_core::Registry,
    command: &str,
    machine: &mes_core::domain::Machine,
) -> Result<(), RegistryError> {
    match command {
        "list" => registry
            .list_machines(&ListQuery::default())
            .await
            .map(drop),
        "get" => registry.get_machine(machine.uid).await.map(drop),
        "counts" => registry
            .status_counts(&ListQuery::default())
            .await
            .map(drop),
        "types" => registry.machine_types().await.map(drop),
        "fleet" => registry.fleet_snapshot(1000).await.map(drop),
        "history" => registry.machine_history(machine.uid).await.map(drop),
        "reliability" => {
            let now = chrono::Utc::now();
            registry
                .reliability(mes_core::domain::TimeRange {
                    from: now - chrono::TimeDelta::days(30),
                    to: now,
                })
                .await
                .map(drop)
        }
        "efficiency" => registry.fleet_efficiency(85.0).await.map(drop),
        "plan" => registry.maintenance_plan().await.map(drop),
        "log" => registry.maintenance_log(machine.uid).await.map(drop),
        "record-done" => registry
            .record_maintenance(&mes_core::domain::RecordMaintenance {
                write_id: Uuid::new_v4(),
                uid: machine.uid,
                done_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                note: "role test".into(),
            })
            .await
            .map(drop),
        "add-reason" => registry
            .add_loss_reason(&mes_core::domain::NewLossReason {
                name: format!("Role test {}", Uuid::new_v4().simple()),
                category: mes_core::domain::LossCategory::Breakdown,
            })
            .await
            .map(drop),
        "cycle-time" => {
            registry
                .set_ideal_cycle_time(&mes_core::domain::SetTypeCycleTime {
                    machine_type: format!("Type {}", Uuid::new_v4().simple()),
                    ideal_cycle_s: Some(42.0),
                })
                .await
        }
        "oee" => registry
            .oee_totals(
                mes_core::domain::TimeRange {
                    from: chrono::Utc::now() - chrono::TimeDelta::days(7),
                    to: chrono::Utc::now(),
                },
                mes_core::domain::OeeGrouping::MachineType,
            )
            .await
            .map(drop),
        "record-shift" => {
            let iso = |hours: i64| {
                (chrono::Utc::now() - chrono::TimeDelta::hours(hours))
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            };
            registry
                .record_shift(&mes_core::domain::RecordShift {
                    write_id: Uuid::new_v4(),
                    uid: Uuid::new_v4(),
                    shift: mes_core::domain::ShiftInput {
                        machine_uid: machine.uid,
                        start: iso(2),
                        end: iso(1),
                        planned_stops: vec![],
                        downtime: vec![],
                        ideal_cycle_s: 60.0,
                        total_count: 30,
                        startup_rejects: 0,
                        production_rejects: 1,
                        performance_reason: None,
                    },
                })
                .await
                .map(drop)
        }
        "plan-machine" => registry
            .plan_maintenance(&mes_core::domain::PlanMaintenance {
                write_id: Uuid::new_v4(),
                uid: machine.uid,
                sets_interval: true,
                interval_days: Some(30),
                sets_planned_for: true,
                planned_for: Some("2030-01-01".into()),
            })
            .await
            .map(drop),
        "plan-type" => registry
            .set_type_interval(&mes_core::domain::SetTypeInterval {
                machine_type: "Milling Machine".into(),
                interval_days: Some(45),
            })
            .await
            .map(drop),
        "create" => registry
            .create_machine(&create_write(input(&format!(
                "NEW-{}",
                Uuid::new_v4().simple()
            ))))
            .await
            .map(drop),
        "edit" => {
            let current = registry.get_machine(machine.uid).await?;
            let mut changed = input(&current.machine_name);
            changed.machine_type = format!("Type {}", current.version);
            registry
                .update_machine(&update_write(&current, changed))
                .await
                .map(drop)
        }
        "status" => registry
            .set_machine_status(&status_write(machine.uid, "Idle"))
            .await
            .map(drop),
        "delete" => {
            let current = registry.get_machine(machine.uid).await?;
            registry
                .delete_machine(&delete_write(&current))
                .await
                .map(drop)
        }
        "prune" => registry.prune_applied_writes().await.map(drop),
        other => panic!("no such command {other}"),
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn each_role_may_do_what_its_group_allows_and_the_server_refuses_the_rest(pool: PgPool) {
    let open = schema::grant_roles(registry(pool.clone()).db())
        .await
        .unwrap();
    assert!(open.is_empty(), "{open:?}");
    // Twice: idempotent.
    schema::grant_roles(registry(pool.clone()).db())
        .await
        .unwrap();
    let owner = registry(pool.clone());

    let mut table = String::from("| role | ");
    table.push_str(&COMMANDS.join(" | "));
    table.push_str(" |\n");
    for group in mes_core::domain::GROUP_ROLES {
        let user_pool = user_in(&pool, group).await;
        let user = registry(user_pool.clone());
        let privileges = user.privileges().await.unwrap();
        assert!(
            privileges.groups.iter().any(|g| g == group),
            "{privileges:?}"
        );
        assert_eq!(privileges.role_label(), group.trim_start_matches("mes_"));
        let writes = expected(group, "create");
        assert_eq!(
            (
                privileges.can_read,
                privileges.can_create,
                privileges.can_edit,
                privileges.can_delete,
                privileges.can_set_status,
                privileges.can_read_history,
                privileges.can_plan_maintenance,
                privileges.can_record_maintenance,
                privileges.can_record_shifts,
                privileges.can_keep_reasons,
            ),
            (
                true,
                writes,
                writes,
                writes,
                writes,
                true,
                expected(group, "plan-machine"),
                expected(group, "record-done"),
                expected(group, "record-shift"),
                expected(group, "add-reason"),
            ),
            "{group}: {privileges:?}"
        );
        let _ = write!(table, "| {group} |");
        for command in COMMANDS {
            // A machine of its own per command, made by the owner, so a delete leaves the next
            // command something to work on.
            let machine = create(&owner, &format!("M-{}", Uuid::new_v4().simple())).await;
            let before = snapshot(&pool).await;
            let answer = run(&user, command, &machine).await;
            match (&answer, expected(group, command)) {
                (Ok(()), true) => {
                    let _ = write!(table, " allowed |");
                }
                (Err(RegistryError::Refused(reason)), false) => {
                    assert_eq!(reason, mes_core::error::PERMISSION_DENIED);
                    assert_eq!(
                        before,
                        snapshot(&pool).await,
                        "{group} {command}: nothing changed"
                    );
                    let _ = write!(table, " refused (42501) |");
                }
                (other, allowed) => {
                    panic!("{group} {command}: expected allowed={allowed}, got {other:?}")
                }
            }
        }
        table.push('\n');

        // No app role may change the schema, switch the history off, rewrite it or forget
        // applied writes behind the replay's back.
        for statement in [
            "ALTER TABLE machines DISABLE TRIGGER machines_record_history",
            "UPDATE machine_history SET db_user = 'someone else'",
            "DELETE FROM machine_history",
            "TRUNCATE machine_history",
            "DELETE FROM applied_writes",
            "UPDATE maintenance_log SET note = 'rewritten'",
            "INSERT INTO maintenance_log (machine_uid, machine_name, done_at) VALUES (gen_random_uuid(), 'forged', now())",
            "DELETE FROM maintenance_log",
            "UPDATE applied_writes SET applied_at = now() - interval '1000 days'",
            // Shift records are entered, never rewritten; a reason is renamed by no one.
            "UPDATE shift_records SET total_count = 0",
            "DELETE FROM shift_records",
            "DELETE FROM shift_stops",
            "UPDATE loss_reasons SET name = 'renamed'",
            "INSERT INTO loss_reasons (name, category, built_in) VALUES ('forged', 'breakdown', true)",
            "INSERT INTO shift_records (uid, write_id, machine_uid, machine_name, machine_type,
                 started_at, ended_at, planned_busy_s, ideal_cycle_s, total_count, entered_by)
             VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'm', 't', now(),
                 now() + interval '1 hour', 3600, 60, 1, 'someone else')",
            "CREATE TABLE public.intruder (id int)",
            "DROP TABLE machines",
        ] {
            let error = sqlx::query(statement)
                .execute(&user_pool)
                .await
                .unwrap_err();
            let code = error
                .as_database_error()
                .and_then(|e| e.code())
                .unwrap_or_default();
            assert!(
                code == "42501" || code == "P0001",
                "{group}: {statement} answered {error}"
            );
        }
        user_pool.close().await;
    }
    println!("{table}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn applied_writes_younger_than_the_retention_are_never_forgotten_whoever_asks(pool: PgPool) {
    let owner = registry(pool.clone());
    create(&owner, "CNC-001").await;
    let forgotten = owner
        .prune_applied_writes_before(chrono::Utc::now() + chrono::TimeDelta::days(1), 100)
        .await
        .unwrap();
    assert_eq!(forgotten, 0);
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM applied_writes")
            .fetch_one(&pool)
            .await
            .unwrap(),
        1
    );
}

#[sqlx::test(migrations = false)]
async fn the_app_never_migrates_it_names_the_administrators_step(pool: PgPool) {
    let registry = registry(pool.clone());
    let error = registry
        .list_machines(&ListQuery::default())
        .await
        .unwrap_err();
    assert!(matches!(error, RegistryError::SchemaRefused(_)), "{error}");
    let text = error.to_string();
    assert!(
        text.contains(
            "the database needs an upgrade by an administrator (schema 0, app needs 2024"
        ),
        "{text}"
    );
    assert!(text.contains("mes-admin migrate"), "{text}");
    let tables: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(tables, 0, "the app created nothing");
    // Checked again on the next call: once the administrator has migrated, the app works.
    schema::migrate(registry.db()).await.unwrap();
    registry.list_machines(&ListQuery::default()).await.unwrap();
}

#[sqlx::test(migrations = "../../migrations")]
async fn privileges_granted_to_everyone_are_reported_not_silently_kept(pool: PgPool) {
    sqlx::query("GRANT INSERT, DELETE ON machines TO PUBLIC")
        .execute(&pool)
        .await
        .unwrap();
    let open = schema::grant_roles(registry(pool.clone()).db())
        .await
        .unwrap();
    assert!(
        open.iter()
            .any(|w| w.contains("REVOKE INSERT ON public.machines FROM PUBLIC")),
        "{open:?}"
    );
    assert!(
        open.iter()
            .any(|w| w.contains("REVOKE DELETE ON public.machines FROM PUBLIC")),
        "{open:?}"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_operator_cannot_record_writes_under_another_users_name(pool: PgPool) {
    schema::grant_roles(registry(pool.clone()).db())
        .await
        .unwrap();
    let owner = registry(pool.clone());
    let machine = create(&owner, "CNC-001").await;
    let client = Uuid::new_v4();

    // Alice's PC edits the machine (version 1 -> 2).
    let alice_pool = user_in(&pool, "mes_operator").await;
    let alice = registry(alice_pool.clone());
    alice.set_client(client);
    let mut changed = input("CNC-001");
    changed.machine_type = "Lathe".into();
    alice
        .update_machine(&update_write(&machine, changed))
        .await
        .unwrap();

    // Mallory, another operator, claims the same client id and forges a record as someone else.
    let mallory_pool = user_in(&pool, "mes_operator").await;
    sqlx::query("INSERT INTO applied_writes (write_id, machine_uid, kind, client_id, version_before, version_after, db_user) VALUES (gen_random_uuid(), $1, 'update', $2, 5, 6, 'someone_else')")
        .bind(machine.uid)
        .bind(client)
        .execute(&mallory_pool)
        .await
        .unwrap();
    let stamped: String = sqlx::query_scalar(
        "SELECT db_user FROM applied_writes WHERE version_before = 5 AND machine_uid = $1",
    )
    .bind(machine.uid)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        stamped.starts_with("t_mes_operator_"),
        "the server stamped the real user: {stamped}"
    );

    // Mallory's stale edit with Alice's client id is not taken for Alice's own: it conflicts.
    let mallory = registry(mallory_pool.clone());
    mallory.set_client(client);
    let mut stale = input("CNC-001");
    stale.machine_type = "Press".into();
    let answer = mallory.update_machine(&update_write(&machine, stale)).await;
    assert!(
        matches!(answer, Err(RegistryError::StaleVersion { .. })),
        "{answer:?}"
    );
    alice_pool.close().await;
    mallory_pool.close().await;
}
