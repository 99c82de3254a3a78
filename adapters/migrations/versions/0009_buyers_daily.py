"""A daily rollup of who bought what, for the buyers metric.

`buyers_daily` keeps per wall-clock day (`bucket`), game day ('' for lines sold before the game had a time), class,
species, level and potion: the lines sold, potions and gold. Kept by a trigger on `sale_lines` in the transaction
that writes the lines (PostgreSQL once per statement from its transition table; SQLite once per row), so it is
exact; backfilled here. Class × species × level × potion is nearly as many rows per hour as the lines themselves, so
an hourly rollup would not shrink the scan; a day holds many lines of each. The metric sums the whole days inside
[since, until] from it and reads only the lines of the part days at either edge, and reads the lines themselves
when asked for one game hour (see `adapters/metrics.py`).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

KEY = "bucket, game_day, character_class, character_species, level, sku"
PG = f"""
CREATE FUNCTION cauldrons_roll_up_buyers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO buyers_daily AS r ({KEY}, lines, potions, gold)
    SELECT date_trunc('day', created_at), COALESCE(game_day, ''), character_class, character_species, level, sku,
           COUNT(*), SUM(quantity), SUM(total)
      FROM added GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT ({KEY}) DO UPDATE
       SET lines = r.lines + EXCLUDED.lines, potions = r.potions + EXCLUDED.potions, gold = r.gold + EXCLUDED.gold;
    RETURN NULL;
END $$;
CREATE TRIGGER sale_lines_roll_up_buyers AFTER INSERT ON sale_lines REFERENCING NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION cauldrons_roll_up_buyers();
"""
SQLITE_DAY = "strftime('%Y-%m-%d 00:00:00.000000', {})"  # as SQLAlchemy writes a DateTime on SQLite
SQLITE = f"""
CREATE TRIGGER sale_lines_roll_up_buyers AFTER INSERT ON sale_lines BEGIN
    INSERT INTO buyers_daily ({KEY}, lines, potions, gold)
    VALUES ({SQLITE_DAY.format('NEW.created_at')}, COALESCE(NEW.game_day, ''), NEW.character_class,
            NEW.character_species, NEW.level, NEW.sku, 1, NEW.quantity, NEW.total)
    ON CONFLICT ({KEY}) DO UPDATE
       SET lines = lines + 1, potions = potions + excluded.potions, gold = gold + excluded.gold;
END"""
BACKFILL = f"""
INSERT INTO buyers_daily ({KEY}, lines, potions, gold)
SELECT {{day}}, COALESCE(game_day, ''), character_class, character_species, level, sku,
       COUNT(*), SUM(quantity), SUM(total)
  FROM sale_lines GROUP BY 1, 2, 3, 4, 5, 6"""


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table('buyers_daily',
    sa.Column('bucket', sa.DateTime(), nullable=False),
    sa.Column('game_day', sa.String(length=20), nullable=False),
    sa.Column('character_class', sa.String(length=255), nullable=False),
    sa.Column('character_species', sa.String(length=255), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('sku', sa.String(length=20), nullable=False),
    *(sa.Column(column, sa.BigInteger(), nullable=False) for column in ('lines', 'potions', 'gold')),
    sa.UniqueConstraint(*KEY.split(', '), name='uq_buyers_daily')
    )
    day = "date_trunc('day', created_at)" if postgres else SQLITE_DAY.format('created_at')
    op.execute(BACKFILL.format(day=day))
    op.execute(PG if postgres else SQLITE)
    if postgres:
        # The planner multiplies the columns' distinct counts (about 8,400 groups) and sorts the rows on text to
        # group them; told the real count (1,680 in the benchmark), it hashes them. On both tables the metric groups
        # (each branch of its UNION ALL groups its own rows, so these statistics reach the grouping).
        for table in ('buyers_daily', 'sale_lines'):
            op.execute(f"CREATE STATISTICS {table}_buyer_groups (ndistinct) "
                       f"ON character_class, character_species, level, sku FROM {table}")


def downgrade() -> None:
    op.execute("DROP TRIGGER sale_lines_roll_up_buyers" + (" ON sale_lines" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP STATISTICS buyers_daily_buyer_groups, sale_lines_buyer_groups")
        op.execute("DROP FUNCTION cauldrons_roll_up_buyers()")
    op.drop_table('buyers_daily')
