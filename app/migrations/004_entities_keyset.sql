-- Keyset pagination of /api/entities (paging=keyset, after=<cursor>) walks (created_at, id): these
-- indexes turn each page into one range scan from the cursor, with or without a category filter.
CREATE INDEX IF NOT EXISTS entities_created_at_id_idx ON entities (created_at, id);
CREATE INDEX IF NOT EXISTS entities_category_created_at_id_idx ON entities (category, created_at, id);
