"""Repositories: SQLAlchemy in, core records out."""
