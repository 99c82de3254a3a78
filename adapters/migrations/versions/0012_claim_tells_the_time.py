"""The claim of a request key tells the game's time too: `cauldrons_claim_at(route, key)` (PostgreSQL).

Every keyed request that books something claims its key first and reads the game clock later, to stamp what it
writes: two round trips. The new function takes the key's transaction-scoped advisory lock as `cauldrons_claim`
did, then returns one row: the latest tick (NULLs before the first) and the key's stored reply (NULLs if none),
each read after the lock was granted. It takes the same lock as `cauldrons_claim`, which stays for processes still
running the code from before this revision (a later revision may drop it).

SQLite needs neither: a unit of work there holds the database's write lock from its first statement.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27
"""
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

CLAIM_AT = """
CREATE FUNCTION cauldrons_claim_at(p_route text, p_key text)
RETURNS TABLE (game_day varchar, game_hour smallint, fingerprint varchar, status smallint, body bytea,
               content_type varchar)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(p_route || E'\\n' || p_key, 0));
    RETURN QUERY
        SELECT t.day, t.hour, p.fingerprint, p.status, p.body, p.content_type
          FROM (SELECT 1) AS one
          LEFT JOIN LATERAL (SELECT c.day, c.hour FROM game_clock c ORDER BY c.id DESC LIMIT 1) t ON true
          LEFT JOIN processed_requests p ON p.route = p_route AND p.key = p_key;
END $$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CLAIM_AT)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION cauldrons_claim_at(text, text)")
