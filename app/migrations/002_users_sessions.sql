-- Users log in with a password (scrypt hash, see app/password.ts) and get a session token.
CREATE TABLE users (
  id            bigserial PRIMARY KEY,
  username      text        NOT NULL UNIQUE CHECK (length(username) BETWEEN 1 AND 100),
  password_hash text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- Only a SHA-256 digest of each token is stored: a leaked table does not give usable tokens.
CREATE TABLE sessions (
  token_hash bytea       PRIMARY KEY,
  user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);

CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
