-- Adopt the tutorial's table: add what the app needs, enforce the rules in the database, keep every
-- row, and keep the six original columns usable by plain INSERT / UPDATE / SELECT / DELETE.
--
-- Rows that break the rules are never changed or destroyed. If any exist, this migration stops
-- before touching anything (it runs in one transaction) and its error lists the offending rows, so
-- an administrator can fix them with SQL and start the app again. See README "Adopting an existing
-- database".

DO $adopt$
DECLARE
    offending bigint;
    report text;
BEGIN
    CREATE TEMP TABLE machine_rule_breaks ON COMMIT DROP AS
    SELECT m.id, m.machine_name, array_remove(ARRAY[
        CASE WHEN m.machine_name ~ '^\s|\s$' THEN 'name has leading or trailing spaces' END,
        CASE WHEN m.machine_name !~ '\S' THEN 'name is empty' END,
        CASE WHEN char_length(m.machine_name) > 100 THEN 'name is longer than 100 characters' END,
        CASE WHEN m.machine_name ~ '[[:cntrl:]]' THEN 'name contains a control character' END,
        CASE WHEN m.machine_type ~ '^\s|\s$' THEN 'type has leading or trailing spaces' END,
        CASE WHEN m.machine_type !~ '\S' THEN 'type is empty' END,
        CASE WHEN char_length(m.machine_type) > 100 THEN 'type is longer than 100 characters' END,
        CASE WHEN m.machine_type ~ '[[:cntrl:]]' THEN 'type contains a control character' END,
        CASE WHEN m.operational_status NOT IN ('Running', 'Idle', 'Maintenance', 'Down')
             THEN format('status %L is not one of Running, Idle, Maintenance, Down', m.operational_status) END,
        CASE WHEN NOT (m.efficiency >= 0 AND m.efficiency <= 100)
             THEN format('efficiency %s is not a number from 0 to 100', m.efficiency) END,
        CASE WHEN EXISTS (SELECT 1 FROM machines o
                          WHERE lower(o.machine_name) = lower(m.machine_name) AND o.id <> m.id)
             THEN 'name differs only in letter case from another machine' END
    ], NULL) AS reasons
    FROM machines m;

    SELECT count(*) INTO offending FROM machine_rule_breaks WHERE cardinality(reasons) > 0;
    IF offending > 0 THEN
        SELECT string_agg(format('  id %s (%s): %s', id, quote_literal(machine_name),
                                 array_to_string(reasons, '; ')), E'\n' ORDER BY id)
        INTO report
        FROM (SELECT * FROM machine_rule_breaks WHERE cardinality(reasons) > 0 ORDER BY id LIMIT 50) b;
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            MESSAGE = format('MES adoption refused: %s row(s) of table machines break the rules; nothing was changed', offending),
            DETAIL = report,
            HINT = 'Fix these rows with SQL (or delete them deliberately), then start the app again.';
    END IF;
END
$adopt$;

-- Instants: the tutorial stored naive TIMESTAMPs; the rule is that they meant UTC.
ALTER TABLE machines
    ALTER COLUMN last_maintenance TYPE timestamptz USING last_maintenance AT TIME ZONE 'UTC',
    -- uid: the identity the app uses; a client can choose it offline, before the row exists.
    ADD COLUMN uid uuid NOT NULL DEFAULT gen_random_uuid(),
    -- version: optimistic concurrency; advanced by the trigger below on every real change.
    ADD COLUMN version bigint NOT NULL DEFAULT 1,
    -- For adopted rows created_at is the adoption time: the tutorial did not record creation.
    ADD COLUMN created_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT machines_uid_key UNIQUE (uid),
    ADD CONSTRAINT machines_name_valid CHECK (
        machine_name ~ '\S' AND machine_name !~ '^\s|\s$'
        AND char_length(machine_name) <= 100 AND machine_name !~ '[[:cntrl:]]'),
    ADD CONSTRAINT machines_type_valid CHECK (
        machine_type ~ '\S' AND machine_type !~ '^\s|\s$'
        AND char_length(machine_type) <= 100 AND machine_type !~ '[[:cntrl:]]'),
    ADD CONSTRAINT machines_status_valid CHECK (
        operational_status IN ('Running', 'Idle', 'Maintenance', 'Down')),
    -- NaN compares greater than every number in PostgreSQL, so this also refuses NaN and Infinity.
    ADD CONSTRAINT machines_efficiency_valid CHECK (efficiency >= 0 AND efficiency <= 100),
    ADD CONSTRAINT machines_version_positive CHECK (version >= 1);

-- Names are unique ignoring letter case (the tutorial's exact-case UNIQUE stays for its tools).
CREATE UNIQUE INDEX machines_name_lower_key ON machines (lower(machine_name));

-- Every real change advances the version and the update time, whoever makes it: other tools that
-- UPDATE the six original columns never set version themselves.
CREATE FUNCTION machines_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

CREATE TRIGGER machines_touch
    BEFORE UPDATE ON machines
    FOR EACH ROW
    WHEN (OLD.* IS DISTINCT FROM NEW.*)
    EXECUTE FUNCTION machines_touch();

-- Indexes for the sortable columns; id breaks ties so every order is stable.
CREATE INDEX machines_type_sort ON machines (machine_type, id);
CREATE INDEX machines_status_sort ON machines (operational_status, id);
CREATE INDEX machines_efficiency_sort ON machines (efficiency, id);
CREATE INDEX machines_last_maintenance_sort ON machines (last_maintenance, id);
CREATE INDEX machines_updated_at_sort ON machines (updated_at, id);

-- Idempotency: each write carries a client-generated id, recorded in the same transaction as the
-- change, so a write replayed after a crash or a retry is recognised and never applied twice.
CREATE TABLE applied_writes (
    write_id uuid PRIMARY KEY,
    machine_uid uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('create', 'update', 'set_status', 'delete')),
    applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX applied_writes_applied_at ON applied_writes (applied_at);

-- Name search by substring: a trigram index when the pg_trgm extension can be created (a trusted
-- extension since PostgreSQL 13). Without it, search still works, by scanning.
DO $trgm$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX machines_name_trgm ON machines USING gin (lower(machine_name) gin_trgm_ops);
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm unavailable (%): name search will scan', SQLERRM;
END
$trgm$;
