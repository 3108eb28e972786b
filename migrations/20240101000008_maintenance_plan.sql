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
