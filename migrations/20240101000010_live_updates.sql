-- Live updates: every change of a machine, by anyone (this app, the tutorial's API, psql), is
-- announced on the channel `mes_machines` when its transaction commits, as a small JSON text:
-- {"uid": …, "version": …, "kind": "insert" | "update" | "delete"}; a TRUNCATE as
-- {"kind": "truncate"}. Each app keeps one LISTEN connection and updates its window and its
-- offline copy from these, instead of listing again. A notification is only a hint: a PC that
-- missed some (its listener was down) compares the fleet's fingerprint when it listens again.
-- Anyone may NOTIFY this channel: a payload only tells an app which machine to read again.
CREATE FUNCTION public.machines_notify() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('mes_machines',
            json_build_object('uid', OLD.uid, 'version', OLD.version, 'kind', 'delete')::text);
    ELSE
        PERFORM pg_notify('mes_machines',
            json_build_object('uid', NEW.uid, 'version', NEW.version, 'kind', lower(TG_OP))::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION public.machines_notify_truncate() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_notify('mes_machines', '{"kind": "truncate"}');
    RETURN NULL;
END
$$;

CREATE TRIGGER machines_notify
    AFTER INSERT OR DELETE ON machines
    FOR EACH ROW EXECUTE FUNCTION public.machines_notify();
-- An update that changes nothing (another tool rewriting a row as it was) tells nobody.
CREATE TRIGGER machines_notify_update
    AFTER UPDATE ON machines
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*)
    EXECUTE FUNCTION public.machines_notify();
CREATE TRIGGER machines_notify_truncate
    AFTER TRUNCATE ON machines
    FOR EACH STATEMENT EXECUTE FUNCTION public.machines_notify_truncate();
