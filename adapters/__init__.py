"""SQLAlchemy: tables and mappings, repositories, the engine, and the migrations that build the schema."""
