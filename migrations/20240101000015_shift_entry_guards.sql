-- Shift entry, made safe against what a role can do with psql (review of migration 14):
-- * the efficiency follows the latest completed shift by the end of the shift behind it, kept on
--   the machine's row: two PCs entering shifts of one machine at once end on the later shift,
--   whichever commits last (the check reads the locked row, not a snapshot taken before it);
-- * the mark and that end are the owner's to write: an operator's INSERT or UPDATE cannot set
--   them (a value they type still clears the mark); the shift's own trigger, running as the
--   owner, moves the efficiency and records the versions it moved the machine between;
-- * a record written by hand is held to the app's rules: it has ended (by the server's clock),
--   its machine exists and names it, its performance is at most 100 % unless a reason is given.

ALTER TABLE machines ADD COLUMN efficiency_shift_end timestamptz;

DROP TRIGGER machines_efficiency_typed ON machines;
DROP FUNCTION machines_efficiency_typed();

-- True for the role that owns the machines table (the migrations' and the triggers' role).
CREATE FUNCTION public.mes_is_owner() RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT current_user = pg_get_userbyid(relowner)
      FROM pg_class WHERE oid = 'public.machines'::regclass
$$;

CREATE FUNCTION public.machines_efficiency_source() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NOT public.mes_is_owner() THEN
            NEW.efficiency_shift := NULL;
            NEW.efficiency_shift_end := NULL;
        END IF;
        RETURN NEW;
    END IF;
    IF (NEW.efficiency_shift, NEW.efficiency_shift_end)
            IS DISTINCT FROM (OLD.efficiency_shift, OLD.efficiency_shift_end)
       AND NOT public.mes_is_owner() THEN
        NEW.efficiency_shift := OLD.efficiency_shift;
        NEW.efficiency_shift_end := OLD.efficiency_shift_end;
    END IF;
    -- A new efficiency without a new shift behind it was typed. The end of the shift it
    -- replaces stays: a shift older than that, entered late, does not undo what was typed.
    IF NEW.efficiency IS DISTINCT FROM OLD.efficiency
       AND NEW.efficiency_shift IS NOT DISTINCT FROM OLD.efficiency_shift THEN
        NEW.efficiency_shift := NULL;
    END IF;
    RETURN NEW;
END
$$;

-- Named to run before `machines_touch` (triggers of one event fire in name order).
CREATE TRIGGER machines_efficiency_source
    BEFORE INSERT OR UPDATE ON machines
    FOR EACH ROW
    EXECUTE FUNCTION public.machines_efficiency_source();

-- Marks set under migration 14 get their shift's end.
UPDATE machines m SET efficiency_shift_end = s.ended_at
  FROM shift_records s
 WHERE s.uid = m.efficiency_shift AND m.efficiency_shift_end IS NULL;

CREATE FUNCTION public.shift_records_check() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.ended_at > now() + interval '5 minutes' THEN
        RAISE EXCEPTION 'a shift is entered once it has ended'
            USING ERRCODE = '23514', CONSTRAINT = 'shift_records_ended';
    END IF;
    SELECT machine_name, machine_type INTO NEW.machine_name, NEW.machine_type
      FROM public.machines WHERE uid = NEW.machine_uid;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'machine % does not exist', NEW.machine_uid
            USING ERRCODE = '23503', CONSTRAINT = 'shift_records_machine_exists';
    END IF;
    -- The app asks for a reason above 100 %; a second of slack keeps its rounding on this side.
    IF NEW.ideal_cycle_s * NEW.total_count > NEW.planned_busy_s - NEW.breakdown_s - NEW.setup_s + 1
       AND coalesce(NEW.performance_reason, '') !~ '\S' THEN
        RAISE EXCEPTION 'a performance above 100 %% needs a reason'
            USING ERRCODE = '23514', CONSTRAINT = 'shift_records_performance_reason';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER shift_records_check
    BEFORE INSERT ON shift_records
    FOR EACH ROW EXECUTE FUNCTION public.shift_records_check();

-- As the owner: the machine's efficiency becomes the shift's OEE (fully productive time ÷
-- planned busy time, as the app computes it) unless a later shift is behind the current value;
-- the write that entered the shift records the versions it moved the machine between, so the
-- same PC's edits based on the version before pass over it.
CREATE FUNCTION public.shift_records_efficiency() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    oee double precision;
    after_version bigint;
BEGIN
    IF NEW.planned_busy_s <= 0 THEN
        RETURN NULL;
    END IF;
    oee := greatest(0, NEW.ideal_cycle_s
                       * (NEW.total_count - NEW.startup_rejects - NEW.production_rejects))
           / NEW.planned_busy_s;
    UPDATE public.machines
       SET efficiency = round((least(oee, 1) * 100)::numeric, 2)::double precision,
           efficiency_shift = NEW.uid,
           efficiency_shift_end = NEW.ended_at
     WHERE uid = NEW.machine_uid
       AND (efficiency_shift_end IS NULL OR efficiency_shift_end <= NEW.ended_at)
    RETURNING version INTO after_version;
    IF after_version IS NOT NULL THEN
        UPDATE public.applied_writes
           SET version_before = after_version - 1, version_after = after_version
         WHERE write_id = NEW.write_id AND kind = 'record_shift';
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION public.shift_records_efficiency(), public.shift_records_check(),
    public.machines_efficiency_source() FROM PUBLIC;

CREATE TRIGGER shift_records_efficiency
    AFTER INSERT ON shift_records
    FOR EACH ROW EXECUTE FUNCTION public.shift_records_efficiency();
