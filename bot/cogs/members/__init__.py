"""Members: who is in the group, found by name or mention; leaves are recorded, nothing deleted."""
