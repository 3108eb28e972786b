-- Live updates: every change of a machine, by anyone (this app, the tutorial's API, psql), is
-- announced on the channel `mes_machines` when its transaction commits, as a small JSON text:
-- {"uid": …, "version": …, "kind": "insert" | "update" | "delete"}. A statement changing more
-- than 100 machines (a bulk import, a TRUNCATE) is announced once, as {"kind": "resync"}: one
-- notification instead of thousands, and each app reads what it shows again. Each app keeps
-- one LISTEN connection and updates its window and its offline copy from these, instead of
-- listing again. A notification is only a hint: a PC that missed some (its listener was down)
-- compares the fleet's fingerprint when it listens again. Anyone may NOTIFY this channel: a
-- payload only tells an app which machine to read again.
--
-- Statement triggers with transition tables: a bulk statement costs one call, not one per row.
CREATE FUNCTION public.machines_notify() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    changed bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT count(*) INTO changed FROM new_rows;
    ELSIF TG_OP = 'UPDATE' THEN
        -- An update that changes nothing (another tool rewriting a row as it was) tells nobody.
        SELECT count(*) INTO changed
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE o IS DISTINCT FROM n;
    ELSE
        SELECT count(*) INTO changed FROM old_rows;
    END IF;
    IF changed = 0 THEN
        RETURN NULL;
    ELSIF changed > 100 THEN
        PERFORM pg_notify('mes_machines', '{"kind": "resync"}');
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM pg_notify('mes_machines',
            json_build_object('uid', n.uid, 'version', n.version, 'kind', 'insert')::text)
        FROM new_rows n;
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM pg_notify('mes_machines',
            json_build_object('uid', n.uid, 'version', n.version, 'kind', 'update')::text)
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE o IS DISTINCT FROM n;
    ELSE
        PERFORM pg_notify('mes_machines',
            json_build_object('uid', o.uid, 'version', o.version, 'kind', 'delete')::text)
        FROM old_rows o;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION public.machines_notify_truncate() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_notify('mes_machines', '{"kind": "resync"}');
    RETURN NULL;
END
$$;

CREATE TRIGGER machines_notify_insert
    AFTER INSERT ON machines REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.machines_notify();
CREATE TRIGGER machines_notify_update
    AFTER UPDATE ON machines REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.machines_notify();
CREATE TRIGGER machines_notify_delete
    AFTER DELETE ON machines REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.machines_notify();
CREATE TRIGGER machines_notify_truncate
    AFTER TRUNCATE ON machines
    FOR EACH STATEMENT EXECUTE FUNCTION public.machines_notify_truncate();
