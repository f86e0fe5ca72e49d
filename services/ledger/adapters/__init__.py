"""The ledger's adapters: PostgreSQL (`pg`). NATS and S3 adapters are shared (services/common)."""
