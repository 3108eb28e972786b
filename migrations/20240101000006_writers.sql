-- Who made each applied write, stamped by the server: the own-writes rule (an edit based on an
-- older version applies when every change since was this client's) also requires that every
-- one of those changes was made by the same database user. An operator with psql can insert
-- into applied_writes, but not under another user's name: the trigger overwrites whatever is
-- given with `session_user`, which no role below superuser can change. Rows from before this
-- migration keep NULL (they were made before users were recorded).
ALTER TABLE applied_writes ADD COLUMN db_user text;
ALTER TABLE applied_writes ALTER COLUMN db_user SET DEFAULT session_user;

CREATE FUNCTION public.applied_writes_stamp_user() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        NEW.db_user := OLD.db_user;  -- who made a write never changes
    ELSE
        NEW.db_user := session_user;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER applied_writes_stamp_user
    BEFORE INSERT OR UPDATE ON applied_writes
    FOR EACH ROW EXECUTE FUNCTION public.applied_writes_stamp_user();

-- The history functions run with the owner's rights: they resolve names only in pg_catalog (and
-- the schema-qualified public names they use), never in a schema a session put first in its
-- search_path (an operator or function planted there cannot run as the owner).
ALTER FUNCTION public.machines_record_history() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION public.machines_record_truncate() SET search_path = pg_catalog, pg_temp;
