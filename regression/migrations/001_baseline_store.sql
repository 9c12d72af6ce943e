-- The baseline store: one row per k6 run, its KPI values, optional per-request samples or
-- histograms, and named (pinned) baselines. "The last N runs of a branch" is a query over runs,
-- not a table; only pinned baselines are stored.

CREATE TABLE runs (
  id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  testid        text        NOT NULL CONSTRAINT runs_testid_key UNIQUE,
  scenario      text        NOT NULL,
  git_sha       text        NOT NULL,
  branch        text        NOT NULL,
  started_at    timestamptz NOT NULL,
  ended_at      timestamptz NOT NULL,
  -- Where it ran (a CI runner class or a hostname); compare runs of one environment only.
  environment   text        NOT NULL,
  -- NULL when the source does not say (the k6 summary does not carry the version).
  k6_version    text,
  imported_from text        NOT NULL CONSTRAINT runs_imported_from_check CHECK (imported_from IN ('k6-summary', 'prometheus')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT runs_testid_check CHECK (testid <> ''),
  CONSTRAINT runs_scenario_check CHECK (scenario <> ''),
  CONSTRAINT runs_branch_check CHECK (branch <> ''),
  CONSTRAINT runs_time_check CHECK (ended_at >= started_at)
);

-- baselineRuns / kpiHistory / listRuns: newest runs of a scenario on a branch.
CREATE INDEX runs_scenario_branch_started_idx ON runs (scenario, branch, started_at DESC, id DESC);
CREATE INDEX runs_started_idx ON runs (started_at DESC, id DESC);

-- One value per run, KPI and endpoint. endpoint is '' for run-level values (RUN_LEVEL in
-- regression/kpi.ts), a route template ('/api/search') or 'service:<name>' for a service's
-- sub-metric. Units are the KPI's: seconds, ratio 0..1, requests per second.
CREATE TABLE kpi_values (
  run_id   bigint           NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  kpi      text             NOT NULL CONSTRAINT kpi_values_kpi_check CHECK (kpi ~ '^[a-z][a-z0-9_]*$'),
  endpoint text             NOT NULL DEFAULT '',
  value    double precision NOT NULL CONSTRAINT kpi_values_finite_check CHECK (value > '-Infinity' AND value < 'Infinity'),
  CONSTRAINT kpi_values_pkey PRIMARY KEY (run_id, kpi, endpoint)
);

-- kpiHistory: one KPI of one endpoint across runs.
CREATE INDEX kpi_values_kpi_endpoint_idx ON kpi_values (kpi, endpoint, run_id);

-- The distribution behind a KPI, when the source has one: per-request samples (kind 'samples',
-- seconds), or a histogram (kind 'histogram': upper bounds and the count of observations in
-- each bucket, NOT cumulative; the last bound may be 'Infinity').
CREATE TABLE kpi_samples (
  run_id        bigint             NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  kpi           text               NOT NULL CONSTRAINT kpi_samples_kpi_check CHECK (kpi ~ '^[a-z][a-z0-9_]*$'),
  endpoint      text               NOT NULL DEFAULT '',
  kind          text               NOT NULL CONSTRAINT kpi_samples_kind_check CHECK (kind IN ('samples', 'histogram')),
  samples       double precision[],
  bucket_bounds double precision[],
  bucket_counts double precision[],
  CONSTRAINT kpi_samples_pkey PRIMARY KEY (run_id, kpi, endpoint),
  CONSTRAINT kpi_samples_shape_check CHECK (
    (kind = 'samples' AND samples IS NOT NULL AND bucket_bounds IS NULL AND bucket_counts IS NULL)
    OR (kind = 'histogram' AND samples IS NULL AND bucket_bounds IS NOT NULL AND bucket_counts IS NOT NULL
        AND cardinality(bucket_bounds) = cardinality(bucket_counts) AND cardinality(bucket_bounds) > 0)
  )
);

-- Named baselines. Only 'pinned' exists today: a name that points at one run ("release-1.4").
-- A pinned run cannot be deleted while a baseline points at it.
CREATE TABLE baselines (
  name       text        NOT NULL CONSTRAINT baselines_pkey PRIMARY KEY CONSTRAINT baselines_name_check CHECK (name <> ''),
  kind       text        NOT NULL DEFAULT 'pinned' CONSTRAINT baselines_kind_check CHECK (kind IN ('pinned')),
  run_id     bigint      NOT NULL REFERENCES runs (id) ON DELETE RESTRICT,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX baselines_run_idx ON baselines (run_id);
