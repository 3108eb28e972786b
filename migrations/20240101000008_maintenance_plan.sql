-- The maintenance plan: an interval per machine type (the default), an interval and a planned
-- day per machine, and a log of maintenance done. Tables of their own, so the tutorial's
-- `machines` table keeps its columns and a planner's change never moves a machine's version
-- (an operator's edit does not conflict with a plan).

-- Default interval for every machine of a type (a type no machine has yet may be planned too).
CREATE TABLE maintenance_type_intervals (
    machine_type text PRIMARY KEY CONSTRAINT maintenance_type_intervals_type_valid CHECK (
        machine_type ~ '\S' AND machine_type !~ '^\s|\s$'
        AND char_length(machine_type) <= 100 AND machine_type !~ '[[:cntrl:]]'),
    interval_days integer NOT NULL
        CONSTRAINT maintenance_type_intervals_interval_valid CHECK (interval_days BETWEEN 1 AND 3650),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT session_user
);

-- A machine's own plan: its interval (NULL: its type's) and the day maintenance is planned for.
-- No foreign key to machines: other tools may TRUNCATE that table, which a reference would
-- refuse. The plan is read joined to the machines, so a deleted machine's plan is never shown
-- (uids are never reused).
CREATE TABLE maintenance_plans (
    machine_uid uuid PRIMARY KEY,
    interval_days integer
        CONSTRAINT maintenance_plans_interval_valid CHECK (interval_days BETWEEN 1 AND 3650),
    planned_for date
        CONSTRAINT maintenance_plans_planned_sane CHECK (planned_for >= '1900-01-01' AND planned_for < '2200-01-01'),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT session_user
);

-- Maintenance done, append-only: when, what was done, who recorded it (stamped by the server),
-- and the app's write id (a replayed record is recognised and never logged twice).
CREATE TABLE maintenance_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    write_id uuid UNIQUE,
    machine_uid uuid NOT NULL,
    machine_id integer,
    machine_name text NOT NULL,
    done_at timestamptz NOT NULL
        CONSTRAINT maintenance_log_done_sane CHECK (done_at >= '1900-01-01 00:00:00+00' AND done_at < '2200-01-01 00:00:00+00'),
    note text NOT NULL DEFAULT ''
        CONSTRAINT maintenance_log_note_valid CHECK (char_length(note) <= 2000),
    done_by text NOT NULL DEFAULT session_user,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX maintenance_log_machine ON maintenance_log (machine_uid, done_at DESC);

CREATE FUNCTION public.maintenance_stamp_user() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_TABLE_NAME = 'maintenance_log' THEN
        NEW.done_by := session_user;
        NEW.recorded_at := now();
    ELSE
        NEW.updated_by := session_user;
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER maintenance_type_intervals_stamp BEFORE INSERT OR UPDATE ON maintenance_type_intervals
    FOR EACH ROW EXECUTE FUNCTION public.maintenance_stamp_user();
CREATE TRIGGER maintenance_plans_stamp BEFORE INSERT OR UPDATE ON maintenance_plans
    FOR EACH ROW EXECUTE FUNCTION public.maintenance_stamp_user();
CREATE TRIGGER maintenance_log_stamp BEFORE INSERT ON maintenance_log
    FOR EACH ROW EXECUTE FUNCTION public.maintenance_stamp_user();

CREATE FUNCTION public.maintenance_log_append_only() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'the maintenance log is append-only' USING ERRCODE = '42501';
END
$$;
CREATE TRIGGER maintenance_log_append_only BEFORE UPDATE OR DELETE ON maintenance_log
    FOR EACH ROW EXECUTE FUNCTION public.maintenance_log_append_only();
CREATE TRIGGER maintenance_log_no_truncate BEFORE TRUNCATE ON maintenance_log
    FOR EACH STATEMENT EXECUTE FUNCTION public.maintenance_log_append_only();

-- The plan's writes are recorded like the machines' (replayed writes are recognised by id).
ALTER TABLE applied_writes DROP CONSTRAINT IF EXISTS applied_writes_kind_check;
ALTER TABLE applied_writes ADD CONSTRAINT applied_writes_kind_check CHECK (
    kind IN ('create', 'update', 'set_status', 'delete', 'plan_maintenance', 'record_maintenance'));

-- Recording maintenance done, the only way an app role writes the log: it runs with the owner's
-- rights, so no role needs INSERT on the log, UPDATE of machines.last_maintenance or UPDATE of
-- the planned day (which would let it write any of them at will). It logs the record (stamped
-- with session_user, who the caller really is), moves the machine's last maintenance on to it
-- unless a later sane one is recorded, clears a planned day the record fulfils (only when it did
-- move the last maintenance on: up to the new next due day, or a week after it without an
-- interval), and records the write id with the versions, all in one statement.
-- Answers 'recorded', 'already' (this write id was recorded before) or 'missing' (no machine).
CREATE FUNCTION public.mes_record_maintenance(
    p_write_id uuid, p_uid uuid, p_done_at timestamptz, p_note text, p_client uuid
) RETURNS text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $record$
DECLARE
    machine_found boolean;
BEGIN
    IF p_done_at > now() + interval '5 minutes' THEN
        RAISE EXCEPTION 'maintenance cannot be recorded before it is done'
            USING ERRCODE = '23514', CONSTRAINT = 'maintenance_log_done_sane';
    END IF;
    IF EXISTS (SELECT 1 FROM public.applied_writes WHERE write_id = p_write_id)
       OR EXISTS (SELECT 1 FROM public.maintenance_log WHERE write_id = p_write_id) THEN
        RETURN 'already';
    END IF;
    WITH target AS (
        SELECT uid, id, machine_name, machine_type, version, last_maintenance
        FROM public.machines WHERE uid = p_uid FOR UPDATE
    ), logged AS (
        INSERT INTO public.maintenance_log (write_id, machine_uid, machine_id, machine_name, done_at, note)
        SELECT p_write_id, t.uid, t.id, t.machine_name, p_done_at, p_note FROM target t
        RETURNING machine_uid
    ), changed AS (
        UPDATE public.machines m SET last_maintenance = p_done_at
        FROM target t, logged l
        WHERE m.uid = t.uid AND coalesce(
            t.last_maintenance < p_done_at
            OR NOT (t.last_maintenance >= '1900-01-01 00:00:00+00'
                    AND t.last_maintenance < '2200-01-01 00:00:00+00'),
            true)
        RETURNING m.uid, m.version, t.version AS version_before
    ), fulfilled AS (
        UPDATE public.maintenance_plans p SET planned_for = NULL
        FROM target t, changed c
        WHERE p.machine_uid = t.uid AND p.planned_for IS NOT NULL
          AND p.planned_for <= (p_done_at + make_interval(days => coalesce(
                  p.interval_days,
                  (SELECT i.interval_days FROM public.maintenance_type_intervals i
                   WHERE i.machine_type = t.machine_type),
                  7)))::date
    ), recorded AS (
        INSERT INTO public.applied_writes (write_id, machine_uid, kind, client_id, version_before, version_after)
        SELECT p_write_id, l.machine_uid, 'record_maintenance', p_client,
               (SELECT version_before FROM changed), (SELECT version FROM changed)
        FROM logged l
    )
    SELECT EXISTS (SELECT 1 FROM target) INTO machine_found;
    RETURN CASE WHEN machine_found THEN 'recorded' ELSE 'missing' END;
END
$record$;
REVOKE EXECUTE ON FUNCTION public.mes_record_maintenance(uuid, uuid, timestamptz, text, uuid) FROM PUBLIC;
