-- A rare name found in well under a millisecond, also while machines change.
--
-- The trigram index (when pg_trgm exists) is a GIN index: new entries first go to its pending
-- list, which every search reads in full until a vacuum merges it. Each status change adds the
-- name's trigrams again (the row moves, so every index gets an entry), and with the default
-- limit of 4 MB the list grew to hundreds of pages between vacuums: a search for "m-0421" among
-- 100,000 machines took 2.9 ms with 166 pending pages, 0.3 ms with none. At 64 kB (the least
-- allowed) the list is merged by the write that fills it, so a search reads a few pages at most.
ALTER INDEX IF EXISTS public.machines_name_trgm SET (gin_pending_list_limit = 64);
