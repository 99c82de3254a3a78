"""What the exchange offered: the wholesale catalog each barrel plan was shown, once per game tick, append-only.

- `barrel_offers` holds, per barrel type per game tick, the offer as the exchange sent it (sku, ml per barrel, the
  four colour fractions and the one liquid they make, or "mixed"; price, quantity) with the tick (the game clock's
  row, its day and hour) and the wall time of the plan that recorded it. The unique (tick_id, sku) makes "once
  per tick" a constraint: a repeated plan in the same tick inserts nothing (ON CONFLICT DO NOTHING).
- Append-only like the sales record: triggers refuse UPDATE and DELETE on both backends, and TRUNCATE on
  PostgreSQL.
- Rollups for the metrics, per wall-clock hour the rows were written in (`bucket`) and game day and hour:
  `sales_hourly` (per potion: lines, potions, gold), `checkouts_hourly` (carts, potions, gold) and
  `visits_hourly` (visitors), backfilled here and kept by triggers on `sale_lines` and `visit_customers` in the
  transaction that writes them, so they are exact. A metric sums the whole hours inside [since, until] from them
  and reads only the rows at the edges.
- Indexes for the metrics: the offers by wall time; the game clock's ticks by wall time (the balances over time
  are sampled at ticks in [since, until]); sale lines by game time and by buyer, visits by game time, visit
  customers by visit, transactions by kind and game time (see INDEXES).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
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


def _hourly(name: str, keys: list[sa.Column], sums: list[str]) -> None:
    op.create_table(name,
    sa.Column('bucket', sa.DateTime(), nullable=False),
    sa.Column('game_day', sa.String(length=20), nullable=False),
    sa.Column('game_hour', sa.SmallInteger(), nullable=False),
    *keys,
    *(sa.Column(column, sa.BigInteger(), nullable=False) for column in sums),
    sa.UniqueConstraint('bucket', 'game_day', 'game_hour', *(k.name for k in keys), name=f'uq_{name}')
    )


# The rollups, kept by triggers in the transaction that writes the facts. PostgreSQL: once per statement, from its
# transition table, in key order (every writer of sale lines holds the shop's gold account's lock already, so the
# rollup rows add no wait); SQLite: once per row. A cart is counted at its first line (the lowest id).
PG_ROLL_UP = """
CREATE FUNCTION cauldrons_roll_up_sales() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sales_hourly AS r (bucket, game_day, game_hour, sku, lines, potions, gold)
    SELECT date_trunc('hour', created_at), game_day, game_hour, sku, COUNT(*), SUM(quantity), SUM(total)
      FROM added WHERE game_day IS NOT NULL
     GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (bucket, game_day, game_hour, sku) DO UPDATE
       SET lines = r.lines + EXCLUDED.lines, potions = r.potions + EXCLUDED.potions, gold = r.gold + EXCLUDED.gold;
    INSERT INTO checkouts_hourly AS r (bucket, game_day, game_hour, carts, potions, gold)
    SELECT date_trunc('hour', a.created_at), a.game_day, a.game_hour,
           COUNT(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM sale_lines s WHERE s.cart_id = a.cart_id AND s.id < a.id)),
           SUM(a.quantity), SUM(a.total)
      FROM added a WHERE a.game_day IS NOT NULL
     GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (bucket, game_day, game_hour) DO UPDATE
       SET carts = r.carts + EXCLUDED.carts, potions = r.potions + EXCLUDED.potions, gold = r.gold + EXCLUDED.gold;
    RETURN NULL;
END $$;
CREATE TRIGGER sale_lines_roll_up AFTER INSERT ON sale_lines REFERENCING NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION cauldrons_roll_up_sales();
CREATE FUNCTION cauldrons_roll_up_visits() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO visits_hourly AS r (bucket, game_day, game_hour, visitors)
    SELECT date_trunc('hour', v.created_at), v.game_day, v.game_hour, COUNT(*)
      FROM added c JOIN visits v ON v.id = c.visit_pk
     WHERE v.game_day IS NOT NULL
     GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (bucket, game_day, game_hour) DO UPDATE SET visitors = r.visitors + EXCLUDED.visitors;
    RETURN NULL;
END $$;
CREATE TRIGGER visit_customers_roll_up AFTER INSERT ON visit_customers REFERENCING NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION cauldrons_roll_up_visits();
"""
SQLITE_HOUR = "strftime('%Y-%m-%d %H:00:00.000000', {})"  # as SQLAlchemy writes a DateTime on SQLite
SQLITE_ROLL_UP = [
    f"""
CREATE TRIGGER sale_lines_roll_up AFTER INSERT ON sale_lines WHEN NEW.game_day IS NOT NULL BEGIN
    INSERT INTO sales_hourly (bucket, game_day, game_hour, sku, lines, potions, gold)
    VALUES ({SQLITE_HOUR.format('NEW.created_at')}, NEW.game_day, NEW.game_hour, NEW.sku, 1, NEW.quantity, NEW.total)
    ON CONFLICT (bucket, game_day, game_hour, sku) DO UPDATE
       SET lines = lines + 1, potions = potions + excluded.potions, gold = gold + excluded.gold;
    INSERT INTO checkouts_hourly (bucket, game_day, game_hour, carts, potions, gold)
    VALUES ({SQLITE_HOUR.format('NEW.created_at')}, NEW.game_day, NEW.game_hour,
            NOT EXISTS (SELECT 1 FROM sale_lines s WHERE s.cart_id = NEW.cart_id AND s.id < NEW.id),
            NEW.quantity, NEW.total)
    ON CONFLICT (bucket, game_day, game_hour) DO UPDATE
       SET carts = carts + excluded.carts, potions = potions + excluded.potions, gold = gold + excluded.gold;
END""",
    f"""
CREATE TRIGGER visit_customers_roll_up AFTER INSERT ON visit_customers BEGIN
    INSERT INTO visits_hourly (bucket, game_day, game_hour, visitors)
    SELECT {SQLITE_HOUR.format('v.created_at')}, v.game_day, v.game_hour, 1
      FROM visits v WHERE v.id = NEW.visit_pk AND v.game_day IS NOT NULL
    ON CONFLICT (bucket, game_day, game_hour) DO UPDATE SET visitors = visitors + 1;
END""",
]
BACKFILL = """
INSERT INTO sales_hourly (bucket, game_day, game_hour, sku, lines, potions, gold)
SELECT {hour}, game_day, game_hour, sku, COUNT(*), SUM(quantity), SUM(total)
  FROM sale_lines WHERE game_day IS NOT NULL GROUP BY 1, 2, 3, 4;
INSERT INTO checkouts_hourly (bucket, game_day, game_hour, carts, potions, gold)
SELECT {hour}, game_day, game_hour, COUNT(DISTINCT cart_id), SUM(quantity), SUM(total)
  FROM sale_lines WHERE game_day IS NOT NULL GROUP BY 1, 2, 3;
INSERT INTO visits_hourly (bucket, game_day, game_hour, visitors)
SELECT {visit_hour}, v.game_day, v.game_hour, COUNT(*)
  FROM visits v JOIN visit_customers c ON c.visit_pk = v.id WHERE v.game_day IS NOT NULL GROUP BY 1, 2, 3
"""


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
    _hourly('sales_hourly', [sa.Column('sku', sa.String(length=20), nullable=False)], ['lines', 'potions', 'gold'])
    _hourly('checkouts_hourly', [], ['carts', 'potions', 'gold'])
    _hourly('visits_hourly', [], ['visitors'])
    hour = "date_trunc('hour', {})" if postgres else SQLITE_HOUR
    for statement in BACKFILL.format(hour=hour.format('created_at'), visit_hour=hour.format('v.created_at')).split(';'):
        op.execute(statement)
    for statement in [PG_ROLL_UP] if postgres else SQLITE_ROLL_UP:
        op.execute(statement)
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
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER sale_lines_roll_up ON sale_lines")
        op.execute("DROP TRIGGER visit_customers_roll_up ON visit_customers")
        op.execute("DROP FUNCTION cauldrons_roll_up_sales()")
        op.execute("DROP FUNCTION cauldrons_roll_up_visits()")
    else:
        op.execute("DROP TRIGGER sale_lines_roll_up")
        op.execute("DROP TRIGGER visit_customers_roll_up")
    for table in ('sales_hourly', 'checkouts_hourly', 'visits_hourly'):
        op.drop_table(table)
    for name, table, _, _ in INDEXES:
        op.drop_index(name, table_name=table)
    op.drop_index('ix_game_clock_created_at', table_name='game_clock')
    op.drop_table('barrel_offers')  # its indexes and triggers go with it
