-- Uploaded files, kept in the database (bytea) so the service has one stateful dependency.
CREATE TABLE files (
  id           bigserial PRIMARY KEY,
  content_type text        NOT NULL,
  size         integer     NOT NULL CHECK (size >= 0),
  content      bytea       NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
