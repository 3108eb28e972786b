-- Shift production records: OEE from what happened (issue 12). Tables of their own beside the
-- tutorial's `machines`, which other tools keep using as they are.

-- The reasons an operator picks for a stop, under the loss each counts as. Data, not code: a
-- planner adds the plant's own; a reason a record uses cannot be deleted (the reference refuses
-- it), only retired.
CREATE TABLE loss_reasons (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL CONSTRAINT loss_reasons_name_valid CHECK (
        name ~ '\S' AND name !~ '^\s|\s$' AND char_length(name) <= 80 AND name !~ '[[:cntrl:]]'),
    category text NOT NULL CONSTRAINT loss_reasons_category_valid
        CHECK (category IN ('breakdown', 'setup_adjustment', 'small_stop')),
    built_in boolean NOT NULL DEFAULT false,
    retired_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL DEFAULT session_user
);
CREATE UNIQUE INDEX loss_reasons_name_key ON loss_reasons (lower(name));
INSERT INTO loss_reasons (name, category, built_in) VALUES
    ('Mechanical failure', 'breakdown', true),
    ('Electrical failure', 'breakdown', true),
    ('Hydraulic or pneumatic failure', 'breakdown', true),
    ('Control or software fault', 'breakdown', true),
    ('Tool breakage', 'breakdown', true),
    ('Changeover', 'setup_adjustment', true),
    ('Tool change', 'setup_adjustment', true),
    ('Adjustment after a quality check', 'setup_adjustment', true),
    ('Start-up and warm-up', 'setup_adjustment', true),
    ('Jam or misfeed', 'small_stop', true),
    ('Sensor blocked', 'small_stop', true),
    ('Waiting for material', 'small_stop', true),
    ('Cleaning', 'small_stop', true),
    ('Operator called away', 'small_stop', true);

-- One shift of one machine: its times and counts, and the sums of its stops by loss (kept with
-- the record, so a roll-up over a range reads one row per shift). The machine's name and type
-- are those it had when the shift was entered. No foreign key to machines (other tools may
-- TRUNCATE that table); uids are never reused.
CREATE TABLE shift_records (
    uid uuid PRIMARY KEY,
    write_id uuid NOT NULL CONSTRAINT shift_records_write_id_key UNIQUE,
    machine_uid uuid NOT NULL,
    machine_name text NOT NULL,
    machine_type text NOT NULL,
    started_at timestamptz NOT NULL,
    ended_at timestamptz NOT NULL,
    planned_busy_s double precision NOT NULL,
    breakdown_s double precision NOT NULL DEFAULT 0,
    setup_s double precision NOT NULL DEFAULT 0,
    small_stop_s double precision NOT NULL DEFAULT 0,
    ideal_cycle_s double precision NOT NULL,
    total_count bigint NOT NULL,
    startup_rejects bigint NOT NULL DEFAULT 0,
    production_rejects bigint NOT NULL DEFAULT 0,
    performance_reason text CONSTRAINT shift_records_reason_valid
        CHECK (char_length(performance_reason) <= 500),
    entered_by text NOT NULL DEFAULT session_user,
    entered_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT shift_records_times_valid CHECK (
        ended_at > started_at AND ended_at - started_at <= interval '24 hours'
        AND started_at >= '1900-01-01 00:00:00+00' AND ended_at < '2200-01-01 00:00:00+00'),
    CONSTRAINT shift_records_sums_valid CHECK (
        planned_busy_s >= 0 AND breakdown_s >= 0 AND setup_s >= 0 AND small_stop_s >= 0
        AND planned_busy_s <= extract(epoch FROM ended_at - started_at) + 0.001
        AND breakdown_s + setup_s + small_stop_s <= planned_busy_s + 0.001),
    CONSTRAINT shift_records_cycle_valid CHECK (ideal_cycle_s > 0 AND ideal_cycle_s <= 86400),
    CONSTRAINT shift_records_counts_valid CHECK (
        total_count >= 0 AND startup_rejects >= 0 AND production_rejects >= 0
        AND startup_rejects + production_rejects <= total_count)
);
CREATE INDEX shift_records_machine ON shift_records (machine_uid, started_at);
CREATE INDEX shift_records_started ON shift_records (started_at);

-- A shift's stops: planned ones (breaks, planned maintenance) and downtime with its reason.
CREATE TABLE shift_stops (
    shift_uid uuid NOT NULL REFERENCES shift_records (uid) ON DELETE CASCADE,
    seq integer NOT NULL,
    planned boolean NOT NULL,
    started_at timestamptz,
    ended_at timestamptz,
    seconds double precision NOT NULL CONSTRAINT shift_stops_seconds_valid CHECK (seconds > 0),
    reason_id uuid REFERENCES loss_reasons (id),
    category text CONSTRAINT shift_stops_category_valid
        CHECK (category IN ('breakdown', 'setup_adjustment', 'small_stop')),
    PRIMARY KEY (shift_uid, seq),
    CONSTRAINT shift_stops_kind_valid CHECK (
        planned = (reason_id IS NULL) AND planned = (category IS NULL)),
    CONSTRAINT shift_stops_times_valid CHECK (
        (started_at IS NULL) = (ended_at IS NULL) AND (started_at IS NULL OR ended_at > started_at))
);
CREATE INDEX shift_stops_reason ON shift_stops (reason_id) WHERE reason_id IS NOT NULL;

-- Who entered a record and who added a reason are the server's to say: the columns' defaults
-- (session_user, now()), which no group may insert (the grants name the other columns).

-- Two shifts of one machine may not overlap. Checked under a lock on the machine's row in an
-- owner's table, so two PCs entering overlapping shifts at the same moment cannot both succeed:
-- at READ COMMITTED the second waits and then sees the first; at REPEATABLE READ it fails with
-- a serialization error (40001), which the app tries again. (An advisory lock would not do:
-- any role may take one and block a machine's entries; and at REPEATABLE READ the check would
-- not see the other's shift.) Migration 13 runs it in the trigger that keeps the daily sums.
CREATE TABLE shift_machine_locks (
    machine_uid uuid PRIMARY KEY
);

CREATE FUNCTION public.shift_records_overlap(r public.shift_records) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO public.shift_machine_locks AS l (machine_uid) VALUES (r.machine_uid)
    ON CONFLICT (machine_uid) DO UPDATE SET machine_uid = l.machine_uid;
    -- A shift lasts at most 24 hours: only those starting in the day before can reach it.
    IF EXISTS (
        SELECT 1 FROM public.shift_records s
         WHERE s.machine_uid = r.machine_uid AND s.uid <> r.uid
           AND s.started_at > r.started_at - interval '24 hours'
           AND s.started_at < r.ended_at AND s.ended_at > r.started_at
    ) THEN
        RAISE EXCEPTION 'the shift overlaps another shift of this machine'
            USING ERRCODE = '23P01', CONSTRAINT = 'shift_records_no_overlap';
    END IF;
END
$$;
REVOKE ALL ON FUNCTION public.shift_records_overlap(public.shift_records) FROM PUBLIC;
