-- The efficiency column follows the OEE of each machine's latest completed shift, so other tools
-- reading the tutorial's table see a number that comes from what happened. `efficiency_shift`
-- names the shift record the value came from; a value typed afterwards (in the app or by another
-- tool) clears it, and the app shows that value as typed by hand.
ALTER TABLE machines ADD COLUMN efficiency_shift uuid;

-- A new efficiency that does not come with a new shift behind it was typed.
CREATE FUNCTION machines_efficiency_typed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.efficiency IS DISTINCT FROM OLD.efficiency
       AND NEW.efficiency_shift IS NOT DISTINCT FROM OLD.efficiency_shift THEN
        NEW.efficiency_shift := NULL;
    END IF;
    RETURN NEW;
END
$$;

-- Named to run before `machines_touch` (triggers of one event fire in name order).
CREATE TRIGGER machines_efficiency_typed
    BEFORE UPDATE OF efficiency ON machines
    FOR EACH ROW
    EXECUTE FUNCTION machines_efficiency_typed();

-- A shift entry that moves the efficiency is recorded like every other write (an operator's
-- later edit based on the version before it passes over it, as over any of their own writes).
ALTER TABLE applied_writes DROP CONSTRAINT IF EXISTS applied_writes_kind_check;
ALTER TABLE applied_writes ADD CONSTRAINT applied_writes_kind_check CHECK (
    kind IN ('create', 'update', 'set_status', 'delete', 'plan_maintenance', 'record_maintenance',
             'record_shift'));
