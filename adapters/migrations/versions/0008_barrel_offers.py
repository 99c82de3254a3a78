"""What the exchange offered: the wholesale catalog each barrel plan was shown, once per game tick, append-only.

- `barrel_offers` holds, per barrel type per game tick, the offer as the exchange sent it (sku, ml per barrel, the
  four colour fractions and the one liquid they make, or "mixed"; price, quantity) with the tick (the game clock's
  row, its day and hour) and the wall time of the plan that recorded it. The unique (tick_id, sku) makes "once
  per tick" a constraint: a repeated plan in the same tick inserts nothing (ON CONFLICT DO NOTHING).
- Append-only like the sales record: triggers refuse UPDATE and DELETE on both backends, and TRUNCATE on
  PostgreSQL.
- Indexes for the metrics: the offers by wall time; the game clock's ticks by wall time (the balances over time
  are sampled at ticks in [since, until]); sale lines by game time and by buyer, visits by game time, visit
  customers by visit, transactions by kind and game time (see INDEXES).

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0006'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

# The metrics' indexes: on PostgreSQL each covers its metric's columns (INCLUDE), so an aggregate over the history
# is an index-only scan of a narrow index in game-time order; SQLite has no INCLUDE and gets the keys alone.
INDEXES = [
    ('ix_sale_lines_game_time', 'sale_lines', ['game_day', 'game_hour', 'sku'],
     ['quantity', 'total', 'created_at', 'cart_id']),
    ('ix_sale_lines_buyer', 'sale_lines', ['character_class', 'character_species', 'level', 'sku'],
     ['quantity', 'total', 'created_at', 'game_day', 'game_hour']),
    ('ix_visits_game_time', 'visits', ['game_day', 'game_hour'], ['created_at']),
    ('ix_visit_customers_visit_pk', 'visit_customers', ['visit_pk'], []),
    ('ix_account_transactions_kind_game_time', 'account_transactions', ['kind', 'game_day', 'game_hour'],
     ['created_at']),
]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table('barrel_offers',
    sa.Column('id', ID, nullable=False),
    sa.Column('tick_id', ID, nullable=False),
    sa.Column('game_day', sa.String(length=20), nullable=False),
    sa.Column('game_hour', sa.SmallInteger(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('ml_per_barrel', sa.Integer(), nullable=False),
    sa.Column('red', sa.Float(), nullable=False),
    sa.Column('green', sa.Float(), nullable=False),
    sa.Column('blue', sa.Float(), nullable=False),
    sa.Column('dark', sa.Float(), nullable=False),
    sa.Column('liquid', sa.String(length=8), nullable=False),
    sa.Column('price', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['tick_id'], ['game_clock.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tick_id', 'sku', name='uq_barrel_offers_tick_sku')
    )
    op.create_index('ix_barrel_offers_created_at', 'barrel_offers', ['created_at'])
    op.create_index('ix_game_clock_created_at', 'game_clock', ['created_at'])
    for name, table, columns, include in INDEXES:
        op.create_index(name, table, columns, postgresql_include=include)
    if postgres:
        op.execute("CREATE TRIGGER barrel_offers_append_only BEFORE UPDATE OR DELETE ON barrel_offers "
                   "FOR EACH ROW EXECUTE FUNCTION cauldrons_refuse_change()")
        op.execute("CREATE TRIGGER barrel_offers_no_truncate BEFORE TRUNCATE ON barrel_offers "
                   "FOR EACH STATEMENT EXECUTE FUNCTION cauldrons_refuse_change()")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER barrel_offers_no_{event.lower()} BEFORE {event} ON barrel_offers "
                       f"BEGIN SELECT RAISE(ABORT, 'barrel_offers is append-only: {event} refused'); END")


def downgrade() -> None:
    for name, table, _, _ in INDEXES:
        op.drop_index(name, table_name=table)
    op.drop_index('ix_game_clock_created_at', table_name='game_clock')
    op.drop_table('barrel_offers')  # its indexes and triggers go with it
