"""Alembic revisions (a package, so that a wheel carries them; Alembic skips this file)."""
