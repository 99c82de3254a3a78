"""A request key is claimed outside the unit of work's transaction, so a replay is one round trip (PostgreSQL).

`cauldrons_claim_at` (0012) takes the key's transaction-scoped advisory lock, so every claim opens a transaction
that must be ended: a replay cost the claim and a ROLLBACK. `cauldrons_claim_key(route, key)` returns the same row
and is sent before BEGIN, on its own:
1. a stored reply is final (replies are append-only, and unique per key): if the key has one, it is returned and no
   lock is taken; the statement ends, and with it the replay's work on the database;
2. otherwise it takes the key's *session* advisory lock (the same key as 0006 and 0012, so it excludes processes
   still claiming with those), waiting for a twin that holds it, and reads again: a reply the twin committed is
   returned, the lock released; no reply, and the lock stays held for the unit of work, which releases it in the
   round trip that ends its transaction (after COMMIT or ROLLBACK). A session that ends (a killed worker, a dropped
   connection) releases it too.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28
"""
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

CLAIM_KEY = """
CREATE FUNCTION cauldrons_claim_key(p_route text, p_key text)
RETURNS TABLE (game_day varchar, game_hour smallint, fingerprint varchar, status smallint, body bytea,
               content_type varchar)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_lock bigint := hashtextextended(p_route || E'\\n' || p_key, 0);
BEGIN
    IF NOT EXISTS (SELECT 1 FROM processed_requests p WHERE p.route = p_route AND p.key = p_key) THEN
        PERFORM pg_advisory_lock(v_lock);
        IF EXISTS (SELECT 1 FROM processed_requests p WHERE p.route = p_route AND p.key = p_key) THEN
            PERFORM pg_advisory_unlock(v_lock);  -- a twin answered while we waited: its reply is ours
        END IF;
    END IF;
    RETURN QUERY
        SELECT t.day, t.hour, p.fingerprint, p.status, p.body, p.content_type
          FROM (SELECT 1) AS one
          LEFT JOIN LATERAL (SELECT c.day, c.hour FROM game_clock c ORDER BY c.id DESC LIMIT 1) t ON true
          LEFT JOIN processed_requests p ON p.route = p_route AND p.key = p_key;
END $$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CLAIM_KEY)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION cauldrons_claim_key(text, text)")
