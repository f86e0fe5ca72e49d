"""The shared drivers' adapters: object storage (s3) and NATS (nats). Driver errors are
translated into `services.common.errors` here, at the boundary."""
