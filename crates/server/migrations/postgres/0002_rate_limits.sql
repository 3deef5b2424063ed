-- Provider rate limits shared by every instance: one row per (integrated account, bucket), the
-- bucket's theoretical arrival time (GCRA) in Unix seconds of the database's clock. Unlogged: no
-- WAL write (and no disk flush) per call; a database crash empties it, so buckets start full
-- again, which costs at most one burst.
CREATE UNLOGGED TABLE rate_limits (
    account TEXT NOT NULL,
    bucket  TEXT NOT NULL,
    tat     DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (account, bucket)
);

-- Takes one token from each bucket (all or none) and answers how long the call must wait for
-- them, or, with nothing taken, the first bucket that would hold it longer than `max_wait`.
-- A bucket with `burst` tokens refilled at one per `interval` seconds lets `burst` calls pass
-- at once, then one per `interval`. Rows are locked in the order given: callers sort buckets.
CREATE FUNCTION switchboard_take_rate_limit(
    p_account   TEXT,
    p_buckets   TEXT[],
    p_intervals DOUBLE PRECISION[],
    p_bursts    DOUBLE PRECISION[],
    p_max_wait  DOUBLE PRECISION
) RETURNS TABLE (wait DOUBLE PRECISION, held TEXT) LANGUAGE plpgsql AS $$
DECLARE
    now_s   DOUBLE PRECISION := extract(epoch FROM clock_timestamp());
    tats    DOUBLE PRECISION[] := '{}';
    stored  DOUBLE PRECISION;
    next    DOUBLE PRECISION;
    needed  DOUBLE PRECISION;
    longest DOUBLE PRECISION := 0;
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_buckets, 1), 0) LOOP
        INSERT INTO rate_limits (account, bucket, tat) VALUES (p_account, p_buckets[i], 0)
            ON CONFLICT (account, bucket) DO NOTHING;
        SELECT r.tat INTO stored FROM rate_limits r
            WHERE r.account = p_account AND r.bucket = p_buckets[i] FOR UPDATE;
        next := greatest(stored, now_s) + p_intervals[i];
        needed := next - p_bursts[i] * p_intervals[i] - now_s;
        IF needed > p_max_wait THEN
            RETURN QUERY SELECT needed, p_buckets[i];
            RETURN;
        END IF;
        tats := tats || next;
        longest := greatest(longest, needed);
    END LOOP;
    FOR i IN 1 .. coalesce(array_length(p_buckets, 1), 0) LOOP
        UPDATE rate_limits r SET tat = tats[i]
            WHERE r.account = p_account AND r.bucket = p_buckets[i];
    END LOOP;
    RETURN QUERY SELECT longest, NULL::TEXT;
END
$$;
