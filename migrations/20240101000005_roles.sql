-- Least privilege: the app's users (group roles mes_viewer, mes_operator, mes_planner, mes_admin,
-- made by `mes-admin roles`) never own a table and may not delete from applied_writes, which
-- makes replays idempotent. Forgetting old write ids goes through this function instead: it runs
-- with the owner's rights and never forgets one younger than the retention (180 days), whoever
-- calls it and with whatever cut-off.
CREATE FUNCTION public.mes_prune_applied_writes(before timestamptz, max_rows integer)
RETURNS bigint
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $prune$
    WITH gone AS (
        DELETE FROM public.applied_writes WHERE write_id IN (
            SELECT write_id FROM public.applied_writes
            WHERE applied_at < least(before, now() - interval '180 days')
            ORDER BY applied_at
            LIMIT greatest(least(max_rows, 100000), 0)
        )
        RETURNING 1
    )
    SELECT count(*) FROM gone
$prune$;

-- Functions are callable by everyone unless revoked; `mes-admin roles` grants it to operators.
REVOKE EXECUTE ON FUNCTION public.mes_prune_applied_writes(timestamptz, integer) FROM PUBLIC;
