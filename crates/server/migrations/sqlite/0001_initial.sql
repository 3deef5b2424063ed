-- Integrated accounts: public context in clear, credentials sealed (XChaCha20-Poly1305).
CREATE TABLE accounts (
    id             TEXT PRIMARY KEY,
    integration    TEXT NOT NULL,
    environment    TEXT,
    base_url       TEXT,
    context        TEXT NOT NULL,
    secret_keys    TEXT NOT NULL,
    sealed_secrets BLOB NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

-- API tokens: SHA-256 of the token, never the token.
CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

-- Idempotency records, one per (API token, key); `status` is null while in progress.
CREATE TABLE idempotency (
    scope       TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status      INTEGER,
    headers     TEXT,
    body        BLOB,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_expires_at ON idempotency (expires_at);

-- The request log: no bodies, no credentials.
CREATE TABLE request_log (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    time                  TEXT NOT NULL,
    request_id            TEXT NOT NULL,
    method                TEXT NOT NULL,
    path                  TEXT NOT NULL,
    integration           TEXT,
    integrated_account_id TEXT,
    resource              TEXT,
    unified_method        TEXT,
    status                INTEGER NOT NULL,
    duration_ms           INTEGER NOT NULL,
    exchanges             TEXT NOT NULL
);
CREATE INDEX request_log_account ON request_log (integrated_account_id, id);
