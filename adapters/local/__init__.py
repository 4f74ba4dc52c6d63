"""The local workspace: an in-memory group with a terminal front end, the default without tokens."""
