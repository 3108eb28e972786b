//! Least-privilege roles, enforced by PostgreSQL: the group roles and their grants
//! (`mes-admin roles`), and what the signed-in user may do (read once by the window).
//!
//! | group          | may                                                                   |
//! |----------------|-----------------------------------------------------------------------|
//! | `mes_viewer`   | read machines and their history                                       |
//! | `mes_operator` | viewer + create, edit, delete machines, set status, record maintenance |
//! | `mes_planner`  | viewer + plan maintenance (intervals, planned days), record maintenance|
//! | `mes_admin`    | operator + planner                                                    |
//!
//! None of them owns a table, so none can change the schema, disable the history trigger, or
//! alter or delete the history: that stays with the owner role that runs `mes-admin migrate`.

use sqlx::{Connection, PgConnection, PgExecutor};

use crate::domain::{Privileges, GROUP_ROLES};
use crate::error::{from_sqlx, RegistryError};

/// Creates the group roles that are missing and sets their grants to exactly the table above
/// (a privilege granted by hand to a group is taken back). Idempotent; one transaction. Needs
/// a role that owns the tables and may create roles (CREATEROLE), e.g. the database owner.
/// Returns what still lets every role past these groups (privileges granted to PUBLIC, which
/// other tools may rely on, so they are reported, not taken away).
pub async fn grant_roles(conn: &mut PgConnection) -> Result<Vec<String>, RegistryError> {
    let mut tx = conn.begin().await.map_err(from_sqlx)?;
    for statement in GRANTS {
        sqlx::query(statement)
            .execute(&mut *tx)
            .await
            .map_err(roles_error)?;
    }
    let open: Vec<String> = sqlx::query_scalar(
        "SELECT format('every role (PUBLIC) may %s %s: REVOKE %s ON %s FROM PUBLIC;', lower(p), t, p, t)
         FROM unnest(ARRAY['public.machines', 'public.machine_history', 'public.applied_writes',
                     'public.maintenance_type_intervals', 'public.maintenance_plans', 'public.maintenance_log',
                     'public.loss_reasons', 'public.shift_records', 'public.shift_stops',
                     'public.oee_daily_machine', 'public.oee_daily_type', 'public.ideal_cycle_times']) t,
              unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) p
         WHERE has_table_privilege('public', t, p)
         UNION ALL
         SELECT 'every role (PUBLIC) may create objects in schema public: REVOKE CREATE ON SCHEMA public FROM PUBLIC;'
         WHERE has_schema_privilege('public', 'public', 'CREATE')",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    tx.commit().await.map_err(from_sqlx)?;
    Ok(open)
}

const GRANTS: &[&str] = &[
    "DO $roles$
     DECLARE name text;
     BEGIN
         FOREACH name IN ARRAY ARRAY['mes_viewer', 'mes_operator', 'mes_planner', 'mes_admin'] LOOP
             IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = name) THEN
                 EXECUTE format('CREATE ROLE %I NOLOGIN', name);
             END IF;
         END LOOP;
     END
     $roles$",
    "GRANT mes_viewer TO mes_operator, mes_planner",
    "GRANT mes_operator, mes_planner TO mes_admin",
    "GRANT USAGE ON SCHEMA public TO mes_viewer",
    "REVOKE ALL ON TABLE public.machines, public.machine_history, public.applied_writes, public._sqlx_migrations,
         public.machine_status_periods, public.maintenance_type_intervals, public.maintenance_plans,
         public.maintenance_log, public.loss_reasons, public.shift_records, public.shift_stops,
         public.oee_daily_machine, public.oee_daily_type, public.shift_machine_locks,
         public.ideal_cycle_times
         FROM mes_viewer, mes_operator, mes_planner, mes_admin",
    "REVOKE ALL ON FUNCTION public.mes_prune_applied_writes(timestamptz, integer),
         public.mes_record_maintenance(uuid, uuid, timestamptz, text, uuid)
         FROM mes_viewer, mes_operator, mes_planner, mes_admin",
    // The schema version is read to refuse a database the app was not built for; applied
    // writes to say which of the app's writes made a history entry.
    "GRANT SELECT ON TABLE public.machines, public.machine_history, public.applied_writes, public._sqlx_migrations,
         public.machine_status_periods, public.maintenance_type_intervals, public.maintenance_plans,
         public.maintenance_log, public.loss_reasons, public.shift_records, public.shift_stops,
         public.oee_daily_machine, public.oee_daily_type, public.ideal_cycle_times
         TO mes_viewer",
    "GRANT INSERT, UPDATE, DELETE ON TABLE public.machines TO mes_operator",
    "GRANT INSERT ON TABLE public.applied_writes TO mes_operator, mes_planner",
    // Recording maintenance done goes through the owner's function (migration 8): no group may
    // write the log, a machine's last maintenance or a planned day directly.
    "GRANT EXECUTE ON FUNCTION public.mes_record_maintenance(uuid, uuid, timestamptz, text, uuid)
         TO mes_operator, mes_planner",
    "GRANT INSERT, UPDATE ON TABLE public.maintenance_plans, public.maintenance_type_intervals TO mes_planner",
    "GRANT DELETE ON TABLE public.maintenance_type_intervals TO mes_planner",
    "GRANT EXECUTE ON FUNCTION public.mes_prune_applied_writes(timestamptz, integer) TO mes_operator",
    // Operators enter shifts (the server stamps who); planners keep the reason list: add,
    // retire, or delete one no record uses (the records' reference refuses the others).
    // Who entered and when are the columns' defaults (session_user, now()): not granted.
    "GRANT INSERT (uid, write_id, machine_uid, machine_name, machine_type, started_at, ended_at,
         planned_busy_s, breakdown_s, setup_s, small_stop_s, ideal_cycle_s, total_count,
         startup_rejects, production_rejects, performance_reason)
         ON TABLE public.shift_records TO mes_operator",
    "GRANT INSERT ON TABLE public.shift_stops TO mes_operator",
    "GRANT INSERT (name, category) ON TABLE public.loss_reasons TO mes_planner",
    "GRANT DELETE ON TABLE public.loss_reasons TO mes_planner",
    "GRANT UPDATE (retired_at) ON TABLE public.loss_reasons TO mes_planner",
    // Planners keep the types' ideal cycle times (the server stamps who and when).
    "GRANT INSERT (machine_type, ideal_cycle_s), UPDATE (ideal_cycle_s), DELETE
         ON TABLE public.ideal_cycle_times TO mes_planner",
    // The tutorial's `id` is a serial: inserting draws from its sequence.
    "DO $sequence$
     DECLARE sequence_name text := pg_catalog.pg_get_serial_sequence('public.machines', 'id');
     BEGIN
         IF sequence_name IS NOT NULL THEN
             EXECUTE format('REVOKE ALL ON SEQUENCE %s FROM mes_viewer, mes_operator, mes_planner, mes_admin', sequence_name);
             EXECUTE format('GRANT USAGE ON SEQUENCE %s TO mes_operator', sequence_name);
         END IF;
     END
     $sequence$",
];

fn roles_error(err: sqlx::Error) -> RegistryError {
    match err.as_database_error().and_then(|db| db.code()).as_deref() {
        Some("42501") => RegistryError::Refused(
            "this role may not create roles or grant on the app's tables: run `mes-admin roles` as the role that owns the tables and has CREATEROLE (or as a superuser)".into(),
        ),
        Some("42P01") | Some("42883") => RegistryError::SchemaRefused(
            "the app's tables are not there yet: run `mes-admin migrate` first".into(),
        ),
        _ => from_sqlx(err),
    }
}

/// What the current user may do, by PostgreSQL's own privilege checks.
pub async fn privileges(db: impl PgExecutor<'_>) -> Result<Privileges, RegistryError> {
    #[allow(clippy::type_complexity)]
    let row: (String, bool, Vec<String>, bool, bool, bool, bool, bool, bool, bool, bool, bool, bool) = sqlx::query_as(
        "SELECT current_user::text,
                coalesce((SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user), false),
                ARRAY(SELECT rolname::text FROM pg_catalog.pg_roles
                      WHERE rolname = ANY($1) AND pg_catalog.pg_has_role(current_user, oid, 'MEMBER')
                      ORDER BY rolname),
                has_table_privilege('public.machines', 'SELECT'),
                has_table_privilege('public.machines', 'INSERT')
                    AND has_table_privilege('public.applied_writes', 'INSERT'),
                has_table_privilege('public.machines', 'UPDATE')
                    AND has_table_privilege('public.applied_writes', 'INSERT'),
                has_table_privilege('public.machines', 'DELETE')
                    AND has_table_privilege('public.applied_writes', 'INSERT'),
                has_column_privilege('public.machines', 'operational_status', 'UPDATE')
                    AND has_table_privilege('public.applied_writes', 'INSERT'),
                has_table_privilege('public.machine_history', 'SELECT'),
                has_table_privilege('public.maintenance_plans', 'INSERT, UPDATE')
                    AND has_table_privilege('public.maintenance_type_intervals', 'INSERT, UPDATE')
                    AND has_table_privilege('public.applied_writes', 'INSERT'),
                has_function_privilege(
                    'public.mes_record_maintenance(uuid, uuid, timestamptz, text, uuid)', 'EXECUTE'),
                has_column_privilege('public.shift_records', 'machine_uid', 'INSERT')
                    AND has_table_privilege('public.shift_stops', 'INSERT')
                    AND has_table_privilege('public.applied_writes', 'INSERT'),
                has_column_privilege('public.loss_reasons', 'name', 'INSERT')",
    )
    .bind(GROUP_ROLES.map(str::to_owned).to_vec())
    .fetch_one(db)
    .await
    .map_err(from_sqlx)?;
    let (
        user,
        superuser,
        groups,
        can_read,
        can_create,
        can_edit,
        can_delete,
        can_set_status,
        history,
        can_plan_maintenance,
        can_record_maintenance,
        can_record_shifts,
        can_keep_reasons,
    ) = row;
    Ok(Privileges {
        user,
        groups,
        superuser,
        can_read,
        can_create,
        can_edit,
        can_delete,
        can_set_status,
        can_read_history: history,
        can_plan_maintenance,
        can_record_maintenance,
        can_record_shifts,
        can_keep_reasons,
    })
}
