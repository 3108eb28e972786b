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

CREATE FUNCTION machines_record_history() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_row jsonb := CASE WHEN TG_OP = 'INSERT' THEN '{}'::jsonb ELSE to_jsonb(OLD) END;
    new_row jsonb := CASE WHEN TG_OP = 'DELETE' THEN '{}'::jsonb ELSE to_jsonb(NEW) END;
    field text;
    diff jsonb := '{}'::jsonb;
BEGIN
    FOREACH field IN ARRAY ARRAY['machine_name', 'machine_type', 'operational_status', 'efficiency', 'last_maintenance'] LOOP
        IF (old_row -> field) IS DISTINCT FROM (new_row -> field) THEN
            diff := diff || jsonb_build_object(field, jsonb_build_array(old_row -> field, new_row -> field));
        END IF;
    END LOOP;
    IF TG_OP = 'UPDATE' AND diff = '{}'::jsonb THEN
        RETURN NULL;
    END IF;
    INSERT INTO machine_history (machine_id, machine_uid, operation, version, changes)
    VALUES (
        CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END,
        CASE WHEN TG_OP = 'DELETE' THEN OLD.uid ELSE NEW.uid END,
        lower(TG_OP),
        CASE WHEN TG_OP = 'DELETE' THEN OLD.version ELSE NEW.version END,
        diff
    );
    RETURN NULL;
END
$$;

CREATE TRIGGER machines_history
    AFTER INSERT OR UPDATE OR DELETE ON machines
    FOR EACH ROW EXECUTE FUNCTION machines_record_history();

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
