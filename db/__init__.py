"""Storage: typed SQLAlchemy models, engines and Alembic migrations. Never imports arena/."""
