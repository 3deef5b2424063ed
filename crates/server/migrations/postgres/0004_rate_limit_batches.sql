-- Many calls' rate-limit reservations in one round trip: an instance gathers the calls that
-- wait for the database at the same moment and takes their tokens together. Each request is
-- served exactly as if it had called `switchboard_take_rate_limit` alone, one after the other in
-- the order given, at the same instant: so the limits hold as before, and a batch costs one
-- round trip and one lock of each bucket instead of one per call.
--
-- A request `r` (1-based) is for account `p_accounts[r]` and may wait at most `p_max_waits[r]`
-- seconds; its buckets are the entries `e` with `p_requests[e] = r` (entries grouped by request,
-- requests in order), each refilled one token per `p_intervals[e]` seconds up to
-- `p_bursts[e]` tokens. One row per request answers: the wait before its call (its tokens are
-- taken), or, with nothing taken, the first of its buckets that would hold it longer.
--
-- Every bucket the batch touches is created if new and locked first, in (account, bucket) order,
-- one statement each (as in 0002), so concurrent batches from several instances never
-- deadlock. `switchboard_take_rate_limit` (0002) stays for instances of the previous version
-- during a rolling upgrade.
CREATE FUNCTION switchboard_take_rate_limits(
    p_accounts  TEXT[],
    p_max_waits DOUBLE PRECISION[],
    p_requests  INTEGER[],
    p_buckets   TEXT[],
    p_intervals DOUBLE PRECISION[],
    p_bursts    DOUBLE PRECISION[]
) RETURNS TABLE (request INTEGER, wait DOUBLE PRECISION, held TEXT) LANGUAGE plpgsql AS $$
DECLARE
    now_s    DOUBLE PRECISION := extract(epoch FROM clock_timestamp());
    entries  INTEGER := coalesce(array_length(p_requests, 1), 0);
    -- The locked rows: (account, bucket) keys and their theoretical arrival times.
    accounts TEXT[] := '{}';
    buckets  TEXT[] := '{}';
    tats     DOUBLE PRECISION[] := '{}';
    -- The theoretical arrival times as locked, to write back only what changed.
    locked   DOUBLE PRECISION[];
    -- `length(account):account:bucket`, an unambiguous key to find a row's index.
    keys     TEXT[] := '{}';
    pair     RECORD;
    stored   DOUBLE PRECISION;
    slot     INTEGER[] := '{}';
    e        INTEGER := 1;
    first_entry INTEGER;
    k        INTEGER;
    needed   DOUBLE PRECISION;
    longest  DOUBLE PRECISION;
    holding  TEXT;
BEGIN
    FOR pair IN SELECT DISTINCT p_accounts[x.r] AS account, x.b AS bucket
               FROM unnest(p_requests, p_buckets) AS x(r, b) ORDER BY 1, 2 LOOP
        INSERT INTO rate_limits (account, bucket, tat) VALUES (pair.account, pair.bucket, 0)
            ON CONFLICT (account, bucket) DO NOTHING;
        SELECT t.tat INTO stored FROM rate_limits t
            WHERE t.account = pair.account AND t.bucket = pair.bucket FOR UPDATE;
        accounts := accounts || pair.account;
        buckets := buckets || pair.bucket;
        tats := tats || stored;
        keys := keys || (length(pair.account) || ':' || pair.account || ':' || pair.bucket);
    END LOOP;
    locked := tats;
    FOR e2 IN 1 .. entries LOOP
        slot := slot || array_position(keys,
            length(p_accounts[p_requests[e2]]) || ':' || p_accounts[p_requests[e2]] || ':'
            || p_buckets[e2]);
    END LOOP;
    FOR r IN 1 .. coalesce(array_length(p_accounts, 1), 0) LOOP
        first_entry := e;
        longest := 0;
        holding := NULL;
        WHILE e <= entries AND p_requests[e] = r LOOP
            needed := greatest(tats[slot[e]], now_s) + p_intervals[e]
                      - p_bursts[e] * p_intervals[e] - now_s;
            IF holding IS NULL AND needed > p_max_waits[r] THEN
                holding := p_buckets[e];
                longest := needed;
            ELSIF holding IS NULL THEN
                longest := greatest(longest, needed);
            END IF;
            e := e + 1;
        END LOOP;
        IF holding IS NULL THEN
            FOR f IN first_entry .. e - 1 LOOP
                tats[slot[f]] := greatest(tats[slot[f]], now_s) + p_intervals[f];
            END LOOP;
        END IF;
        request := r;
        wait := longest;
        held := holding;
        RETURN NEXT;
    END LOOP;
    FOR k IN 1 .. coalesce(array_length(keys, 1), 0) LOOP
        IF tats[k] <> locked[k] THEN
            UPDATE rate_limits t SET tat = tats[k]
                WHERE t.account = accounts[k] AND t.bucket = buckets[k];
        END IF;
    END LOOP;
END
$$;
