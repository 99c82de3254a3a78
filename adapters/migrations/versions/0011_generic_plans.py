"""The posting path's reads planned once per connection, not once per call (PostgreSQL).

`cauldrons_post` reads the locked accounts with `a.id = ANY(ids) OR (capacity AND a.owner = 'shop')`. PL/pgSQL
caches a generic plan for it only if that plan looks no dearer than the custom ones, which this OR never does, so
it was planned afresh on every call (0.18 ms of the database's CPU per posting, pg_stat_statements). The accounts
are a few dozen rows and every plan of it reads them the same way, so the function keeps the generic plan.

The snapshot the domain checks (the same read, without the locks) was sent as text and planned on every request
(0.14 ms); `cauldrons_snapshot(ids, whole_shop)` is that statement as a function, planned once per connection.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

POST = ("cauldrons_post(timestamp, varchar, text, varchar, integer, varchar, varchar, bigint[], bigint[], boolean, "
        "bigint, bigint)")
SNAPSHOT = """
CREATE FUNCTION cauldrons_snapshot(p_ids bigint[], p_whole_shop boolean)
RETURNS TABLE (id bigint, owner varchar, commodity varchar, balance bigint)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    RETURN QUERY
        SELECT a.id, a.owner, a.commodity, COALESCE(e.balance_after, 0)
          FROM accounts a
          LEFT JOIN LATERAL (SELECT x.balance_after FROM account_ledger_entries x
                              WHERE x.account_id = a.id ORDER BY x.created_at DESC, x.id DESC LIMIT 1) e ON true
         WHERE a.id = ANY(p_ids) OR (p_whole_shop AND a.owner = 'shop');
END $$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER FUNCTION {POST} SET plan_cache_mode = force_generic_plan")
        op.execute(SNAPSHOT)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION cauldrons_snapshot(bigint[], boolean)")
        op.execute(f"ALTER FUNCTION {POST} RESET plan_cache_mode")
