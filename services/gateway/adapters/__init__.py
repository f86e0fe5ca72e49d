"""The gateway's adapters to the outside: the ledger over NATS, uploads into S3."""
