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
-- Every bucket the batch touches is created if new and locked in (account, bucket) order first,
-- so concurrent batches from several instances never deadlock. `switchboard_take_rate_limit`
-- (0002) stays for instances of the previous version during a rolling upgrade.
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
    accounts TEXT[];
    buckets  TEXT[];
    tats     DOUBLE PRECISION[];
    -- `length(account):account:bucket`, an unambiguous key to find a row's index.
    keys     TEXT[];
    slot     INTEGER[] := '{}';
    e        INTEGER := 1;
    first    INTEGER;
    k        INTEGER;
    needed   DOUBLE PRECISION;
    longest  DOUBLE PRECISION;
    holding  TEXT;
BEGIN
    INSERT INTO rate_limits (account, bucket, tat)
        SELECT DISTINCT p_accounts[x.r], x.b, 0
        FROM unnest(p_requests, p_buckets) AS x(r, b)
        ORDER BY 1, 2
        ON CONFLICT (account, bucket) DO NOTHING;
    SELECT array_agg(l.account ORDER BY l.account, l.bucket),
           array_agg(l.bucket ORDER BY l.account, l.bucket),
           array_agg(l.tat ORDER BY l.account, l.bucket),
           array_agg(length(l.account) || ':' || l.account || ':' || l.bucket
                     ORDER BY l.account, l.bucket)
        INTO accounts, buckets, tats, keys
        FROM (SELECT r.account, r.bucket, r.tat FROM rate_limits r
              WHERE (r.account, r.bucket) IN
                  (SELECT p_accounts[x.r], x.b FROM unnest(p_requests, p_buckets) AS x(r, b))
              ORDER BY r.account, r.bucket
              FOR UPDATE) AS l;
    FOR e2 IN 1 .. entries LOOP
        slot := slot || array_position(keys,
            length(p_accounts[p_requests[e2]]) || ':' || p_accounts[p_requests[e2]] || ':'
            || p_buckets[e2]);
    END LOOP;
    FOR r IN 1 .. coalesce(array_length(p_accounts, 1), 0) LOOP
        first := e;
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
            FOR f IN first .. e - 1 LOOP
                tats[slot[f]] := greatest(tats[slot[f]], now_s) + p_intervals[f];
            END LOOP;
        END IF;
        request := r;
        wait := longest;
        held := holding;
        RETURN NEXT;
    END LOOP;
    UPDATE rate_limits t SET tat = n.tat
        FROM unnest(accounts, buckets, tats) AS n(account, bucket, tat)
        WHERE t.account = n.account AND t.bucket = n.bucket AND t.tat <> n.tat;
END
$$;
