"""SQLAlchemy: the tables, the repositories and unit of work on Core, the engine, and the migrations."""
