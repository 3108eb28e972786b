-- Status periods: how long each machine was Running, Idle, in Maintenance or Down, kept from
-- the change history (so from every change by anyone) as one row per period: [started_at,
-- ended_at), ended_at NULL while the machine is in that status now.
--
-- Each period also carries the machine's running totals up to its start (seconds in each status,
-- Down periods begun). Time in a status over any range is then the total at its end minus the
-- total at its start: two index lookups per machine, however many periods lie in between.
CREATE TABLE machine_status_periods (
    id bigserial PRIMARY KEY,
    machine_uid uuid NOT NULL,
    machine_id integer NOT NULL,
    status text NOT NULL,
    started_at timestamptz NOT NULL,
    ended_at timestamptz,
    running_before float8 NOT NULL DEFAULT 0,
    idle_before float8 NOT NULL DEFAULT 0,
    maintenance_before float8 NOT NULL DEFAULT 0,
    down_before float8 NOT NULL DEFAULT 0,
    down_starts_before bigint NOT NULL DEFAULT 0,
    CHECK (ended_at IS NULL OR ended_at >= started_at)
);
-- Covering: the lookup at each end of a range reads the index alone.
CREATE INDEX machine_status_periods_machine ON machine_status_periods (machine_uid, started_at, id)
    INCLUDE (status, ended_at, running_before, idle_before, maintenance_before, down_before, down_starts_before);
CREATE UNIQUE INDEX machine_status_periods_open ON machine_status_periods (machine_uid) WHERE ended_at IS NULL;
-- Machines deleted since a range began still have figures in it.
CREATE INDEX machine_history_deletes ON machine_history (changed_at) WHERE operation = 'delete';

-- Each history row that starts, changes or ends a machine's status closes the open period and,
-- unless the machine was deleted, opens the next, at the history row's time.
CREATE FUNCTION public.machine_history_track_status() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    next_status text;
    closed public.machine_status_periods%ROWTYPE;
    lasted float8;
BEGIN
    IF NEW.operation = 'delete' THEN
        next_status := NULL;
    ELSIF NEW.changes ? 'operational_status' THEN
        next_status := NEW.changes -> 'operational_status' ->> 1;
    ELSE
        RETURN NULL;  -- a change that leaves the status as it was
    END IF;
    UPDATE public.machine_status_periods
       SET ended_at = greatest(NEW.changed_at, started_at)
     WHERE machine_uid = NEW.machine_uid AND ended_at IS NULL
    RETURNING * INTO closed;
    IF next_status IS NOT NULL THEN
        IF closed.id IS NULL THEN
            INSERT INTO public.machine_status_periods (machine_uid, machine_id, status, started_at)
            VALUES (NEW.machine_uid, NEW.machine_id, next_status, NEW.changed_at);
        ELSE
            lasted := extract(epoch FROM closed.ended_at - closed.started_at);
            INSERT INTO public.machine_status_periods (
                machine_uid, machine_id, status, started_at, running_before, idle_before,
                maintenance_before, down_before, down_starts_before)
            VALUES (NEW.machine_uid, NEW.machine_id, next_status, greatest(NEW.changed_at, closed.ended_at),
                closed.running_before + CASE WHEN closed.status = 'Running' THEN lasted ELSE 0 END,
                closed.idle_before + CASE WHEN closed.status = 'Idle' THEN lasted ELSE 0 END,
                closed.maintenance_before + CASE WHEN closed.status = 'Maintenance' THEN lasted ELSE 0 END,
                closed.down_before + CASE WHEN closed.status = 'Down' THEN lasted ELSE 0 END,
                closed.down_starts_before + CASE WHEN closed.status = 'Down' THEN 1 ELSE 0 END);
        END IF;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION public.machine_history_track_status() FROM PUBLIC;

CREATE TRIGGER machine_history_track_status
    AFTER INSERT ON machine_history
    FOR EACH ROW EXECUTE FUNCTION public.machine_history_track_status();

-- The periods up to now, from the history recorded so far. A machine whose history begins with
-- a change (it was there before the history: an adopted tutorial row) was in the change's old
-- status since it was adopted (created_at); a machine without any status change since is in its
-- status since then.
WITH events AS (
    SELECT h.machine_uid, h.machine_id, h.id, h.changed_at, h.operation,
           CASE WHEN h.operation = 'delete' THEN NULL
                ELSE h.changes -> 'operational_status' ->> 1 END AS status,
           h.changes -> 'operational_status' ->> 0 AS old_status
    FROM machine_history h
    WHERE h.operation = 'delete' OR h.changes ? 'operational_status'
), ordered AS (
    SELECT e.*,
           lead(e.changed_at) OVER (PARTITION BY e.machine_uid ORDER BY e.id) AS next_at,
           row_number() OVER (PARTITION BY e.machine_uid ORDER BY e.id) AS n
    FROM events e
), before_history AS (
    SELECT o.machine_uid, o.machine_id, o.old_status AS status,
           least(coalesce(m.created_at, o.changed_at), o.changed_at) AS started_at,
           o.changed_at AS ended_at
    FROM ordered o LEFT JOIN machines m ON m.uid = o.machine_uid
    WHERE o.n = 1 AND o.operation <> 'insert' AND o.old_status IS NOT NULL
), periods AS (
    SELECT machine_uid, machine_id, status, started_at, ended_at FROM before_history
    UNION ALL
    -- (Concurrent writers can commit a later clock reading under an earlier id: never a
    -- negative period. greatest() would drop a NULL end, hence the CASE.)
    SELECT machine_uid, machine_id, status, changed_at,
           CASE WHEN next_at IS NOT NULL THEN greatest(next_at, changed_at) END
    FROM ordered WHERE status IS NOT NULL
    UNION ALL
    SELECT m.uid, m.id, m.operational_status, m.created_at, NULL
    FROM machines m
    WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.machine_uid = m.uid)
), timed AS (
    SELECT p.*, extract(epoch FROM p.ended_at - p.started_at) AS lasted,
           row_number() OVER (PARTITION BY p.machine_uid ORDER BY p.started_at) AS n
    FROM periods p
)
INSERT INTO machine_status_periods (machine_uid, machine_id, status, started_at, ended_at,
    running_before, idle_before, maintenance_before, down_before, down_starts_before)
SELECT machine_uid, machine_id, status, started_at, ended_at,
       coalesce(sum(lasted) FILTER (WHERE status = 'Running') OVER w, 0),
       coalesce(sum(lasted) FILTER (WHERE status = 'Idle') OVER w, 0),
       coalesce(sum(lasted) FILTER (WHERE status = 'Maintenance') OVER w, 0),
       coalesce(sum(lasted) FILTER (WHERE status = 'Down') OVER w, 0),
       count(*) FILTER (WHERE status = 'Down') OVER w
FROM timed
WINDOW w AS (PARTITION BY machine_uid ORDER BY n ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING);

-- `mes-admin roles` grants reading it to mes_viewer (see repo/roles.rs).
