"""The staff dashboard's core: sign-in links, sessions, the audit of changes (web: adapters/web)."""
