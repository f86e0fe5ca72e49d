-- The steps of a pipeline with their states, shown on the top-level job.
ALTER TABLE jobs ADD COLUMN steps jsonb;
CREATE INDEX jobs_pipeline_root ON jobs (pipeline_root) WHERE pipeline_root IS NOT NULL;
