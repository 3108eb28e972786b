-- Trust: values other tools may store, and the record that lets an operator's own writes follow
-- each other without conflicting.
--
-- 1. Instants must be finite and sane. A timestamptz column accepts 'infinity', '-infinity' and
--    years far outside any maintenance record (up to 294276), which the app cannot show as dates.
--    The CHECKs are added NOT VALID: from now on nobody can store such a value, and the rows that
--    already hold one are kept untouched (the app shows them marked, with the reason). Each CHECK
--    is validated here when no row breaks it; otherwise `mes-admin status` names the rows and
--    `mes-admin migrate` validates it once they are fixed.
ALTER TABLE machines
    ADD CONSTRAINT machines_last_maintenance_sane CHECK (
        last_maintenance >= '1900-01-01 00:00:00+00' AND last_maintenance < '2200-01-01 00:00:00+00') NOT VALID,
    ADD CONSTRAINT machines_created_at_sane CHECK (
        created_at >= '1900-01-01 00:00:00+00' AND created_at < '2200-01-01 00:00:00+00') NOT VALID,
    ADD CONSTRAINT machines_updated_at_sane CHECK (
        updated_at >= '1900-01-01 00:00:00+00' AND updated_at < '2200-01-01 00:00:00+00') NOT VALID;

DO $validate$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM machines WHERE NOT (
        last_maintenance >= '1900-01-01 00:00:00+00' AND last_maintenance < '2200-01-01 00:00:00+00')) THEN
        ALTER TABLE machines VALIDATE CONSTRAINT machines_last_maintenance_sane;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM machines WHERE NOT (
        created_at >= '1900-01-01 00:00:00+00' AND created_at < '2200-01-01 00:00:00+00')) THEN
        ALTER TABLE machines VALIDATE CONSTRAINT machines_created_at_sane;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM machines WHERE NOT (
        updated_at >= '1900-01-01 00:00:00+00' AND updated_at < '2200-01-01 00:00:00+00')) THEN
        ALTER TABLE machines VALIDATE CONSTRAINT machines_updated_at_sane;
    END IF;
END
$validate$;

-- 2. Which client made each write, and the machine's version before and after it. An operator's
--    edit or delete carries the version the operator saw; when every change since that version
--    was made by the same client (the operator's own status change, say), the write applies on
--    top of them instead of being refused as if someone else had changed the machine.
ALTER TABLE applied_writes
    ADD COLUMN client_id uuid,
    ADD COLUMN version_before bigint,
    ADD COLUMN version_after bigint;

CREATE INDEX applied_writes_machine_chain
    ON applied_writes (machine_uid, client_id, version_before)
    WHERE client_id IS NOT NULL;
