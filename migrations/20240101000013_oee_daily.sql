-- OEE over months in milliseconds: the shifts' sums per UTC day (the day a shift began), per
-- machine and per machine type, kept by trigger in the same transaction as the shift. A range
-- reads its whole days here and its partial edge days from the shift records; the sums are
-- additive, so both add up to what the records themselves give (tested).

CREATE TABLE oee_daily_machine (
    day date NOT NULL,
    machine_uid uuid NOT NULL,
    machine_type text NOT NULL,
    machine_name text NOT NULL,
    planned_busy_s double precision NOT NULL,
    breakdown_s double precision NOT NULL,
    setup_s double precision NOT NULL,
    small_stop_s double precision NOT NULL,
    produced double precision NOT NULL,
    startup_rejects double precision NOT NULL,
    production_rejects double precision NOT NULL,
    ideal_produced_s double precision NOT NULL,
    ideal_startup_rejects_s double precision NOT NULL,
    ideal_production_rejects_s double precision NOT NULL,
    shifts bigint NOT NULL,
    PRIMARY KEY (day, machine_uid, machine_type)
);
-- One machine's range (its waterfall).
CREATE INDEX oee_daily_machine_by_machine ON oee_daily_machine (machine_uid, day);

CREATE TABLE oee_daily_type (
    day date NOT NULL,
    machine_type text NOT NULL,
    planned_busy_s double precision NOT NULL,
    breakdown_s double precision NOT NULL,
    setup_s double precision NOT NULL,
    small_stop_s double precision NOT NULL,
    produced double precision NOT NULL,
    startup_rejects double precision NOT NULL,
    production_rejects double precision NOT NULL,
    ideal_produced_s double precision NOT NULL,
    ideal_startup_rejects_s double precision NOT NULL,
    ideal_production_rejects_s double precision NOT NULL,
    shifts bigint NOT NULL,
    PRIMARY KEY (day, machine_type)
);

-- Adds a shift's sums (sign 1) or takes them away (sign -1). Only the triggers below call it:
-- no role may (the sums would no longer be the records').
CREATE FUNCTION public.oee_daily_add(r public.shift_records, sign integer) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d date := (r.started_at AT TIME ZONE 'UTC')::date;
BEGIN
    INSERT INTO public.oee_daily_machine AS o (day, machine_uid, machine_type, machine_name,
        planned_busy_s, breakdown_s, setup_s, small_stop_s, produced, startup_rejects, production_rejects, ideal_produced_s, ideal_startup_rejects_s, ideal_production_rejects_s, shifts)
    VALUES (d, r.machine_uid, r.machine_type, r.machine_name, sign * r.planned_busy_s, sign * r.breakdown_s, sign * r.setup_s, sign * r.small_stop_s, sign * r.total_count, sign * r.startup_rejects, sign * r.production_rejects, sign * r.ideal_cycle_s * r.total_count, sign * r.ideal_cycle_s * r.startup_rejects, sign * r.ideal_cycle_s * r.production_rejects, sign)
    ON CONFLICT (day, machine_uid, machine_type) DO UPDATE SET
                planned_busy_s = o.planned_busy_s + excluded.planned_busy_s,
                breakdown_s = o.breakdown_s + excluded.breakdown_s,
                setup_s = o.setup_s + excluded.setup_s,
                small_stop_s = o.small_stop_s + excluded.small_stop_s,
                produced = o.produced + excluded.produced,
                startup_rejects = o.startup_rejects + excluded.startup_rejects,
                production_rejects = o.production_rejects + excluded.production_rejects,
                ideal_produced_s = o.ideal_produced_s + excluded.ideal_produced_s,
                ideal_startup_rejects_s = o.ideal_startup_rejects_s + excluded.ideal_startup_rejects_s,
                ideal_production_rejects_s = o.ideal_production_rejects_s + excluded.ideal_production_rejects_s,
                shifts = o.shifts + excluded.shifts,
                machine_name = CASE WHEN sign > 0 THEN excluded.machine_name ELSE o.machine_name END;
    INSERT INTO public.oee_daily_type AS o (day, machine_type, planned_busy_s, breakdown_s, setup_s, small_stop_s, produced, startup_rejects, production_rejects, ideal_produced_s, ideal_startup_rejects_s, ideal_production_rejects_s, shifts)
    VALUES (d, r.machine_type, sign * r.planned_busy_s, sign * r.breakdown_s, sign * r.setup_s, sign * r.small_stop_s, sign * r.total_count, sign * r.startup_rejects, sign * r.production_rejects, sign * r.ideal_cycle_s * r.total_count, sign * r.ideal_cycle_s * r.startup_rejects, sign * r.ideal_cycle_s * r.production_rejects, sign)
    ON CONFLICT (day, machine_type) DO UPDATE SET
                planned_busy_s = o.planned_busy_s + excluded.planned_busy_s,
                breakdown_s = o.breakdown_s + excluded.breakdown_s,
                setup_s = o.setup_s + excluded.setup_s,
                small_stop_s = o.small_stop_s + excluded.small_stop_s,
                produced = o.produced + excluded.produced,
                startup_rejects = o.startup_rejects + excluded.startup_rejects,
                production_rejects = o.production_rejects + excluded.production_rejects,
                ideal_produced_s = o.ideal_produced_s + excluded.ideal_produced_s,
                ideal_startup_rejects_s = o.ideal_startup_rejects_s + excluded.ideal_startup_rejects_s,
                ideal_production_rejects_s = o.ideal_production_rejects_s + excluded.ideal_production_rejects_s,
                shifts = o.shifts + excluded.shifts;
    -- A day whose last shift was taken away holds nothing: no empty group is listed.
    IF sign < 0 THEN
        DELETE FROM public.oee_daily_machine
         WHERE day = d AND machine_uid = r.machine_uid AND machine_type = r.machine_type
           AND shifts = 0;
        DELETE FROM public.oee_daily_type
         WHERE day = d AND machine_type = r.machine_type AND shifts = 0;
    END IF;
END
$$;

REVOKE ALL ON FUNCTION public.oee_daily_add(public.shift_records, integer) FROM PUBLIC;

-- As the owner: operators enter shifts, they may not write the sums. A new or moved shift is
-- first checked against the machine's others (migration 12): after the row is in, under the
-- machine's lock, so a refusal undoes the whole statement.
CREATE FUNCTION public.shift_records_roll_up() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND (NEW.machine_uid, NEW.started_at, NEW.ended_at)
            IS DISTINCT FROM (OLD.machine_uid, OLD.started_at, OLD.ended_at)) THEN
        PERFORM public.shift_records_overlap(NEW);
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM public.oee_daily_add(OLD, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM public.oee_daily_add(NEW, 1);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER shift_records_roll_up AFTER INSERT OR UPDATE OR DELETE ON shift_records
    FOR EACH ROW EXECUTE FUNCTION public.shift_records_roll_up();

-- A TRUNCATE of the records empties the sums too.
CREATE FUNCTION public.shift_records_truncate_roll_up() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    TRUNCATE public.oee_daily_machine, public.oee_daily_type;
    RETURN NULL;
END
$$;
CREATE TRIGGER shift_records_truncate_roll_up AFTER TRUNCATE ON shift_records
    FOR EACH STATEMENT EXECUTE FUNCTION public.shift_records_truncate_roll_up();
REVOKE ALL ON FUNCTION public.shift_records_roll_up(), public.shift_records_truncate_roll_up()
    FROM PUBLIC;
