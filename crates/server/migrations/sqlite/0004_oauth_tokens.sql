-- OAuth 2.0 tokens of integrated accounts whose integration authenticates with OAuth: the access
-- token, the (possibly rotated) refresh token and the expiry, sealed together under the
-- credential key and bound to the account. `version` grows with every stored renewal; a renewal
-- first claims `lease_until` (Unix seconds) with a conditional update on `version`, so one
-- instance renews at a time, and stores its result with another conditional update on `version`.
CREATE TABLE oauth_tokens (
    account_id  TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    sealed      BLOB,
    lease_until INTEGER
);
