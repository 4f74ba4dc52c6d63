"""Members' own data: export by DM, erasure that reaches the platform, retention, `remember`."""
