-- Many calls' rate-limit reservations in one round trip: an instance gathers the calls that
-- wait for the database at the same moment and takes their tokens together. Each request is
-- served exactly as if it had called `switchboard_take_rate_limit` alone, one after the other in
-- the order given, at the same instant: so the limits hold as before, and a batch costs one
-- round trip and one lock of each bucket instead of one per call.
--
-- The batch's buckets are `(p_accounts[k], p_buckets[k])`, each once, sorted (the caller
-- sorts; every caller sorts the same way): they are locked in that order, so concurrent
-- batches from several instances never deadlock. A request `r` (1-based) may wait at most
-- `p_max_waits[r]` seconds; its entries `e` are those with `p_requests[e] = r` (grouped by
-- request, requests in order), each counting against bucket `p_slots[e]`, refilled one token
-- per `p_intervals[e]` seconds up to `p_bursts[e]` tokens. One row per request answers: the
-- wait before its call (its tokens are taken), or, with nothing taken, the first of its buckets
-- that would hold it longer.
--
-- `switchboard_take_rate_limit` (0002) stays for instances of the previous version during a
-- rolling upgrade.
CREATE FUNCTION switchboard_take_rate_limits(
    p_accounts  TEXT[],
    p_buckets   TEXT[],
    p_max_waits DOUBLE PRECISION[],
    p_requests  INTEGER[],
    p_slots     INTEGER[],
    p_intervals DOUBLE PRECISION[],
    p_bursts    DOUBLE PRECISION[]
) RETURNS TABLE (request INTEGER, wait DOUBLE PRECISION, held TEXT) LANGUAGE plpgsql AS $$
DECLARE
    now_s       DOUBLE PRECISION;
    entries     INTEGER := coalesce(array_length(p_requests, 1), 0);
    -- Each bucket's theoretical arrival time: as locked, and as this batch leaves it.
    locked      DOUBLE PRECISION[] := '{}';
    tats        DOUBLE PRECISION[];
    stored      DOUBLE PRECISION;
    e           INTEGER := 1;
    first_entry INTEGER;
    needed      DOUBLE PRECISION;
    longest     DOUBLE PRECISION;
    holding     TEXT;
BEGIN
    FOR k IN 1 .. coalesce(array_length(p_accounts, 1), 0) LOOP
        SELECT t.tat INTO stored FROM rate_limits t
            WHERE t.account = p_accounts[k] AND t.bucket = p_buckets[k] FOR UPDATE;
        IF NOT FOUND THEN
            INSERT INTO rate_limits (account, bucket, tat) VALUES (p_accounts[k], p_buckets[k], 0)
                ON CONFLICT (account, bucket) DO NOTHING;
            SELECT t.tat INTO stored FROM rate_limits t
                WHERE t.account = p_accounts[k] AND t.bucket = p_buckets[k] FOR UPDATE;
        END IF;
        locked := locked || stored;
    END LOOP;
    -- Now, once every bucket is held: time spent waiting for another batch's locks does not
    -- count as time the buckets refilled for this one.
    now_s := extract(epoch FROM clock_timestamp());
    tats := locked;
    FOR r IN 1 .. coalesce(array_length(p_max_waits, 1), 0) LOOP
        first_entry := e;
        longest := 0;
        holding := NULL;
        WHILE e <= entries AND p_requests[e] = r LOOP
            needed := greatest(tats[p_slots[e]], now_s) + p_intervals[e]
                      - p_bursts[e] * p_intervals[e] - now_s;
            IF holding IS NULL AND needed > p_max_waits[r] THEN
                holding := p_buckets[p_slots[e]];
                longest := needed;
            ELSIF holding IS NULL THEN
                longest := greatest(longest, needed);
            END IF;
            e := e + 1;
        END LOOP;
        IF holding IS NULL THEN
            FOR f IN first_entry .. e - 1 LOOP
                tats[p_slots[f]] := greatest(tats[p_slots[f]], now_s) + p_intervals[f];
            END LOOP;
        END IF;
        request := r;
        wait := longest;
        held := holding;
        RETURN NEXT;
    END LOOP;
    FOR k IN 1 .. coalesce(array_length(p_accounts, 1), 0) LOOP
        IF tats[k] <> locked[k] THEN
            UPDATE rate_limits t SET tat = tats[k]
                WHERE t.account = p_accounts[k] AND t.bucket = p_buckets[k];
        END IF;
    END LOOP;
END
$$;
