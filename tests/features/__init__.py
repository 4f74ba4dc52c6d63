"""Service tests of each feature, on the in-memory unit of work and the local workspace."""
