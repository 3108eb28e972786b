-- The efficiency's mark kept true (review of migration 15):
-- * a typed value holds against shifts that ended before it was typed (a year of old counts
--   imported later does not overwrite today's number); a shift ending after it takes over;
-- * when the shift behind the mark is deleted (or all records truncated), the mark and its end
--   go: the value stays, as typed, and the next shift entered takes over.

CREATE OR REPLACE FUNCTION public.machines_efficiency_source() RETURNS trigger
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
    -- A new efficiency without a new shift behind it was typed: it holds against every shift
    -- that ended before now.
    IF NEW.efficiency IS DISTINCT FROM OLD.efficiency
       AND NEW.efficiency_shift IS NOT DISTINCT FROM OLD.efficiency_shift THEN
        NEW.efficiency_shift := NULL;
        NEW.efficiency_shift_end := greatest(OLD.efficiency_shift_end, now());
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION public.shift_records_mark_gone() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE public.machines SET efficiency_shift = NULL, efficiency_shift_end = NULL
         WHERE efficiency_shift IS NOT NULL;
    ELSE
        UPDATE public.machines SET efficiency_shift = NULL, efficiency_shift_end = NULL
         WHERE efficiency_shift = OLD.uid;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION public.shift_records_mark_gone() FROM PUBLIC;

CREATE TRIGGER shift_records_mark_gone
    AFTER DELETE ON shift_records
    FOR EACH ROW EXECUTE FUNCTION public.shift_records_mark_gone();
CREATE TRIGGER shift_records_mark_gone_truncate
    AFTER TRUNCATE ON shift_records
    FOR EACH STATEMENT EXECUTE FUNCTION public.shift_records_mark_gone();
