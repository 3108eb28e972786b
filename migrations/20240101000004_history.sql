-- The change history: every insert, update and delete of a machine, by anyone (this app, the
-- tutorial's API, psql), recorded by a trigger in the same transaction as the change: when (the
-- server's clock), who (the database user), through what (application_name: the app names its
-- host), the machine's version, and each changed field, old and new. Deletes keep the history.
-- Append-only: its rows are never changed or removed, whoever asks.
CREATE TABLE machine_history (
    id bigserial PRIMARY KEY,
    machine_id integer NOT NULL,
    machine_uid uuid NOT NULL,
    operation text NOT NULL CHECK (operation IN ('insert', 'update', 'delete')),
    changed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    db_user text NOT NULL DEFAULT session_user,
    application text NOT NULL DEFAULT coalesce(current_setting('application_name', true), ''),
    -- The machine's version after the change (for a delete, the version deleted). With the
    -- machine's uid it names the app's write in applied_writes, when the app made the change.
    version bigint NOT NULL,
    -- {"field": [old, new], ...} for each of the tutorial's fields that changed.
    changes jsonb NOT NULL
);
CREATE INDEX machine_history_machine ON machine_history (machine_uid, id);

CREATE FUNCTION machines_field_changes(
    old_name text, new_name text, old_type text, new_type text, old_status text, new_status text,
    old_efficiency float8, new_efficiency float8, old_last timestamptz, new_last timestamptz
) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'machine_name', CASE WHEN old_name IS DISTINCT FROM new_name THEN jsonb_build_array(old_name, new_name) END,
        'machine_type', CASE WHEN old_type IS DISTINCT FROM new_type THEN jsonb_build_array(old_type, new_type) END,
        'operational_status', CASE WHEN old_status IS DISTINCT FROM new_status THEN jsonb_build_array(old_status, new_status) END,
        'efficiency', CASE WHEN old_efficiency IS DISTINCT FROM new_efficiency THEN jsonb_build_array(to_jsonb(old_efficiency), to_jsonb(new_efficiency)) END,
        'last_maintenance', CASE WHEN old_last IS DISTINCT FROM new_last THEN jsonb_build_array(to_jsonb(old_last), to_jsonb(new_last)) END
    ))
$$;

-- One row trigger, comparing the five columns directly (no whole-row conversion): an app write
-- pays one small insert more.
CREATE FUNCTION machines_record_history() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    diff jsonb;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO public.machine_history (machine_id, machine_uid, operation, version, changes)
        VALUES (NEW.id, NEW.uid, 'insert', NEW.version, public.machines_field_changes(
            NULL, NEW.machine_name, NULL, NEW.machine_type, NULL, NEW.operational_status,
            NULL, NEW.efficiency, NULL, NEW.last_maintenance));
    ELSIF TG_OP = 'UPDATE' THEN
        diff := public.machines_field_changes(
            OLD.machine_name, NEW.machine_name, OLD.machine_type, NEW.machine_type,
            OLD.operational_status, NEW.operational_status, OLD.efficiency, NEW.efficiency,
            OLD.last_maintenance, NEW.last_maintenance);
        IF diff <> '{}'::jsonb THEN
            INSERT INTO public.machine_history (machine_id, machine_uid, operation, version, changes)
            VALUES (NEW.id, NEW.uid, 'update', NEW.version, diff);
        END IF;
    ELSE
        INSERT INTO public.machine_history (machine_id, machine_uid, operation, version, changes)
        VALUES (OLD.id, OLD.uid, 'delete', OLD.version, '{}'::jsonb);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER machines_history
    AFTER INSERT OR UPDATE OR DELETE ON machines
    FOR EACH ROW EXECUTE FUNCTION machines_record_history();

-- TRUNCATE removes every machine at once: each is recorded as deleted first.
CREATE FUNCTION machines_record_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.machine_history (machine_id, machine_uid, operation, version, changes)
    SELECT id, uid, 'delete', version, '{}'::jsonb FROM public.machines;
    RETURN NULL;
END
$$;

CREATE TRIGGER machines_history_truncate
    BEFORE TRUNCATE ON machines
    FOR EACH STATEMENT EXECUTE FUNCTION machines_record_truncate();

-- The history is written with the rights of the table's owner, whoever changes a machine: other
-- tools connecting as other roles keep writing to `machines` without any right on the history
-- (they can neither write it directly nor forge it), and `session_user` still names them. The
-- functions name their table and helper with the schema, so no session can divert the record
-- into a temporary table of its own (a fixed search_path would do the same at a cost per row).
ALTER FUNCTION machines_record_history() SECURITY DEFINER;
ALTER FUNCTION machines_record_truncate() SECURITY DEFINER;
REVOKE ALL ON FUNCTION machines_record_history(), machines_record_truncate() FROM PUBLIC;

-- The app's writes are found by machine and version when the history is read.
CREATE INDEX applied_writes_machine_version ON applied_writes (machine_uid, version_after);

CREATE FUNCTION machine_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'machine_history is append-only: its rows are never changed or removed'
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER machine_history_append_only
    BEFORE UPDATE OR DELETE ON machine_history
    FOR EACH ROW EXECUTE FUNCTION machine_history_append_only();
CREATE TRIGGER machine_history_no_truncate
    BEFORE TRUNCATE ON machine_history
    FOR EACH STATEMENT EXECUTE FUNCTION machine_history_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON machine_history FROM PUBLIC;
