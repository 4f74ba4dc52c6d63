"""Profiles: a form members fill in, a directory search, and career updates in #showcase."""
