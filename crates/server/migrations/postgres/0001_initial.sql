-- The PostgreSQL schema, equal in meaning to the SQLite one (migrations/sqlite). Text that is
-- ordered or compared (ids, RFC 3339 times) uses the "C" collation: byte order, as in SQLite.

-- Integrated accounts: public context in clear (JSON text), credentials sealed
-- (XChaCha20-Poly1305). `status`: `active`, or `needs_reauth` after the provider answered 401.
CREATE TABLE accounts (
    id             TEXT COLLATE "C" PRIMARY KEY,
    integration    TEXT NOT NULL,
    environment    TEXT,
    base_url       TEXT,
    context        TEXT NOT NULL,
    secret_keys    TEXT NOT NULL,
    sealed_secrets BYTEA NOT NULL,
    created_at     TEXT COLLATE "C" NOT NULL,
    updated_at     TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'active'
);

-- API tokens: SHA-256 of the token, never the token. `scope`: `admin` or `unified`;
-- `accounts`: the JSON array of the accounts a `unified` token may use (empty: every account).
CREATE TABLE api_tokens (
    id         TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    scope      TEXT NOT NULL DEFAULT 'admin',
    accounts   TEXT NOT NULL DEFAULT '[]',
    created_at TEXT COLLATE "C" NOT NULL
);

-- Idempotency records, one per (API token, key); `status` is null while in progress. Shared by
-- every instance: the primary key makes the first INSERT win.
CREATE TABLE idempotency (
    scope       TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status      BIGINT,
    headers     TEXT,
    body        BYTEA,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_expires_at ON idempotency (expires_at);

-- The request log: no bodies, no credentials. `time` is RFC 3339 UTC: text order is time order.
CREATE TABLE request_log (
    id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time                  TEXT COLLATE "C" NOT NULL,
    request_id            TEXT NOT NULL,
    method                TEXT NOT NULL,
    path                  TEXT NOT NULL,
    integration           TEXT,
    integrated_account_id TEXT,
    resource              TEXT,
    unified_method        TEXT,
    status                BIGINT NOT NULL,
    duration_ms           BIGINT NOT NULL,
    exchanges             TEXT NOT NULL
);
CREATE INDEX request_log_account ON request_log (integrated_account_id, id);
CREATE INDEX request_log_time ON request_log (time);
