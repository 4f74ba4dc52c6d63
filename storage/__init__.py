"""Storage: SQLAlchemy 2 async models, repositories returning core records, a unit of work."""
