-- Lighthouse audits (`perfstack audit`) are runs too: their KPIs (FCP, LCP, TBT, CLS, Speed Index,
-- JavaScript bytes, performance score) are compared and charted like a load test's.
ALTER TABLE runs DROP CONSTRAINT runs_imported_from_check;
ALTER TABLE runs ADD CONSTRAINT runs_imported_from_check CHECK (imported_from IN ('k6-summary', 'prometheus', 'lighthouse'));
