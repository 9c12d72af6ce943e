-- Entities: the main resource of the reference service, searched fuzzily by name (pg_trgm).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE entities (
  id         bigserial PRIMARY KEY,
  name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  category   text        NOT NULL CHECK (length(category) BETWEEN 1 AND 50),
  attributes jsonb       NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Trigram GIN index: serves `name % $1` (similarity) for /api/search and /api/resolve.
CREATE INDEX entities_name_trgm_idx ON entities USING gin (name gin_trgm_ops);
CREATE INDEX entities_category_idx ON entities (category);
