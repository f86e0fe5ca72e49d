-- Extra NATS headers of an outbox message (the trace context of the request behind it).
ALTER TABLE outbox ADD COLUMN headers jsonb;
