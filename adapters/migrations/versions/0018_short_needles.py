"""Order search: a name filter is matched against the customer names first, then each name's lines are walked.

- `sale_customer_names` holds every customer name the sale lines carry, once, backfilled here from the lines. It is
  written with the lines, in their transaction: on PostgreSQL by `cauldrons_sale_lines` (replaced here, its
  signature unchanged), on SQLite by the sales repository's own INSERT. A name filter is matched against it (a few
  thousand rows where the lines are a million; on PostgreSQL a trigram index serves needles of three characters or
  more), and the few names it matches are walked one by one: needles of one and two characters, which no trigram
  index can serve, cost what longer ones do.
- Indexes on (customer_name, value, id) for each sort column but the name (whose own is (customer_name, id)), so
  one name's lines are read in any sort order from wherever a page starts; on PostgreSQL they carry the sku
  (INCLUDE), so a potion filter is checked without reading the table.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-09
"""
import sqlalchemy as sa
from alembic import op

from adapters.migrations import earlier_sql

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

SORTED = ('created_at', 'item_sku', 'total')  # but customer_name, whose (customer_name, id) index serves already

# cauldrons_sale_lines of 0014, and the names the lines carry (a conflict is a name known already: nothing to do).
SALE_LINES = """
CREATE OR REPLACE FUNCTION cauldrons_sale_lines(
    p_route varchar, p_key varchar,
    p_cart_ids bigint[], p_skus text[], p_potion_names text[], p_item_skus text[],
    p_quantities integer[], p_unit_prices integer[], p_totals bigint[],
    p_customer_ids text[], p_customer_names text[], p_character_classes text[], p_character_species text[],
    p_levels integer[])
RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_written integer;
BEGIN
    INSERT INTO sale_lines (account_transaction_id, created_at, game_day, game_hour, cart_id, sku, potion_name,
                            item_sku, quantity, unit_price, total, customer_id, customer_name, character_class,
                            character_species, level)
    SELECT t.id, t.created_at, t.game_day, t.game_hour, v.cart_id, v.sku, v.potion_name, v.item_sku, v.quantity,
           v.unit_price, v.total, v.customer_id, v.customer_name, v.character_class, v.character_species, v.level
      FROM unnest(p_cart_ids, p_skus, p_potion_names, p_item_skus, p_quantities, p_unit_prices, p_totals,
                  p_customer_ids, p_customer_names, p_character_classes, p_character_species, p_levels)
           AS v(cart_id, sku, potion_name, item_sku, quantity, unit_price, total, customer_id, customer_name,
                character_class, character_species, level)
      JOIN account_transactions t ON t.id = (SELECT max(x.id) FROM account_transactions x
                                              WHERE x.request_route = p_route AND x.request_key = p_key);
    GET DIAGNOSTICS v_written = ROW_COUNT;
    IF v_written <> cardinality(p_cart_ids) THEN
        RAISE EXCEPTION 'cauldrons_sale_lines: % posted no transaction to stamp % lines with', p_route || '/' || p_key,
            cardinality(p_cart_ids) USING ERRCODE = 'foreign_key_violation';
    END IF;
    INSERT INTO sale_customer_names (customer_name)
    SELECT DISTINCT n FROM unnest(p_customer_names) AS n
    ON CONFLICT (customer_name) DO NOTHING;
    RETURN v_written;
END $$;
"""


def _sorted_text(length: int) -> sa.String:
    return sa.String(length).with_variant(sa.String(length, collation='C'), 'postgresql')


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table('sale_customer_names',
    sa.Column('customer_name', _sorted_text(255), nullable=False),
    sa.PrimaryKeyConstraint('customer_name')
    )
    op.execute("INSERT INTO sale_customer_names (customer_name) SELECT DISTINCT customer_name FROM sale_lines")
    for column in SORTED:
        op.create_index(f'ix_sale_lines_customer_name_{column}', 'sale_lines', ['customer_name', column, 'id'],
                        postgresql_include=['sku'])
    if postgres:
        op.execute("CREATE INDEX ix_sale_customer_names_trigram ON sale_customer_names "
                   "USING gin (lower(customer_name) gin_trgm_ops)")
        op.execute(SALE_LINES)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(earlier_sql("0014_planned_once_per_connection.py", "SALE_LINES").replace(
            "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    for column in SORTED:
        op.drop_index(f'ix_sale_lines_customer_name_{column}', table_name='sale_lines')
    op.drop_table('sale_customer_names')  # its trigram index goes with it
