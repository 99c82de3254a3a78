"""PostgreSQL functions that save the posting path round trips: a key claimed and its stored reply read in one call,
and accounts locked and their balances read in one call.

- `cauldrons_claim(route, key)` takes the key's transaction-scoped advisory lock and returns its stored reply, if
  any. A twin that waited for the lock reads the reply with a fresh snapshot (each statement of a volatile
  PL/pgSQL function takes its own under READ COMMITTED), so it sees the winner's.
- `cauldrons_lock(ids, whole_shop)` locks the accounts (and, with `whole_shop`, every account of the shop) FOR
  UPDATE in id order, then returns each locked account's latest balance and time, read after the locks were
  granted.

SQLite needs neither: a unit of work there holds the database's write lock from its first statement.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

FUNCTIONS = """
CREATE FUNCTION cauldrons_claim(p_route text, p_key text)
RETURNS TABLE (fingerprint varchar, status smallint, body bytea, content_type varchar)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(p_route || E'\\n' || p_key, 0));
    RETURN QUERY SELECT p.fingerprint, p.status, p.body, p.content_type
                   FROM processed_requests p WHERE p.route = p_route AND p.key = p_key;
END $$;

CREATE FUNCTION cauldrons_lock(p_ids bigint[], p_whole_shop boolean)
RETURNS TABLE (id bigint, owner varchar, commodity varchar, balance bigint, latest timestamp)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    locked bigint[];
BEGIN
    WITH l AS (SELECT a.id FROM accounts a WHERE a.id = ANY(p_ids) OR (p_whole_shop AND a.owner = 'shop')
                ORDER BY a.id FOR UPDATE)
    SELECT array_agg(l.id) INTO locked FROM l;
    RETURN QUERY  -- exactly the accounts locked above (one opened since is not among them)
        SELECT a.id, a.owner, a.commodity, COALESCE(e.balance_after, 0), e.created_at
          FROM accounts a
          LEFT JOIN LATERAL (SELECT x.balance_after, x.created_at FROM account_ledger_entries x
                              WHERE x.account_id = a.id ORDER BY x.created_at DESC, x.id DESC LIMIT 1) e ON true
         WHERE a.id = ANY(locked)
         ORDER BY a.id;
END $$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTIONS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION cauldrons_lock(bigint[], boolean), cauldrons_claim(text, text)")
