"""Setup: `/alumni setup` builds and repairs the group; categories, language and timezone."""
