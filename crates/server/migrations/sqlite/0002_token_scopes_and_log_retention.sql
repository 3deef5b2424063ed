-- API token scopes: `admin` (accounts, tokens, the request log, the unified routes) or `unified`
-- (the unified routes only). Tokens made before scopes existed had full power: they stay `admin`.
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'admin';
-- The accounts a `unified` token may use, as a JSON array of ids; empty: every account.
ALTER TABLE api_tokens ADD COLUMN accounts TEXT NOT NULL DEFAULT '[]';

-- The request log is pruned by age: `time` is RFC 3339 UTC, so text order is time order (to
-- within a second: fractions of a second are written without trailing zeros).
CREATE INDEX request_log_time ON request_log (time);
