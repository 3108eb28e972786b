-- The ideal cycle time of each machine type: the shift form's default (an operator may
-- override it for a shift). Kept by planners; a type no machine has yet may be given one.
CREATE TABLE ideal_cycle_times (
    machine_type text PRIMARY KEY CONSTRAINT ideal_cycle_times_type_valid CHECK (
        machine_type ~ '\S' AND machine_type !~ '^\s|\s$'
        AND char_length(machine_type) <= 100 AND machine_type !~ '[[:cntrl:]]'),
    ideal_cycle_s double precision NOT NULL
        CONSTRAINT ideal_cycle_times_cycle_valid CHECK (ideal_cycle_s > 0 AND ideal_cycle_s <= 86400),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT session_user
);

CREATE TRIGGER ideal_cycle_times_stamp BEFORE INSERT OR UPDATE ON ideal_cycle_times
    FOR EACH ROW EXECUTE FUNCTION public.maintenance_stamp_user();
