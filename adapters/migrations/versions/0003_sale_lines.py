"""The sales fact table: one append-only row per line sold, backfilled from the checkouts already in the books.

- `sale_lines` holds, per line sold: its sale transaction and cart, the potion (sku, name, and the "2 red potion"
  text the order search shows), quantity, unit price paid and total, the customer (id, name, class, species,
  level), and the sale transaction's wall time and game day and hour.
- Append-only like the ledger: triggers refuse UPDATE and DELETE on both backends, and TRUNCATE on PostgreSQL.
- Indexes for keyset paging on each sort column, (value, id) and (sku, value, id): the potion filter is resolved
  to skus through the potions table, and each sku's lines are walked in order on their own index. On PostgreSQL a
  trigram (pg_trgm) index serves the case-insensitive contains filter on the customer's name. Sorted text is
  compared by code point on both backends (the "C" collation on PostgreSQL).
- The backfill reads carts, cart items and sale transactions and only INSERTs: every checked-out cart's lines, at
  the potions' prices (no route has ever changed a price, and `ledger verify` checks each checkout's lines against
  its gold and potion entries), with the time and game time of the cart's sale transaction.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

SORTED = ('created_at', 'customer_name', 'item_sku', 'total')

BACKFILL = """
INSERT INTO sale_lines (account_transaction_id, cart_id, sku, potion_name, item_sku, quantity, unit_price, total,
                        customer_id, customer_name, character_class, character_species, level, created_at,
                        game_day, game_hour)
SELECT t.id, c.cart_id, i.sku, p.name, CAST(i.quantity AS VARCHAR(12)) || ' ' || LOWER(p.name), i.quantity, p.price,
       i.quantity * p.price, c.customer_id, c.customer_name, c.character_class, c.character_species, c.level,
       t.created_at, t.game_day, t.game_hour
  FROM carts c
  JOIN account_transactions t ON t.kind = 'sale' AND t.request_route = 'carts/checkout'
                             AND t.request_key = CAST(c.cart_id AS VARCHAR(20))
  JOIN cart_items i ON i.cart_id = c.cart_id AND i.quantity > 0
  JOIN potions p ON p.sku = i.sku
 WHERE c.status = 'checked_out'
 ORDER BY t.id, i.id
"""


def _sorted_text(length: int) -> sa.String:
    return sa.String(length).with_variant(sa.String(length, collation='C'), 'postgresql')


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table('sale_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cart_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sku', sa.String(length=20), nullable=False),
    sa.Column('potion_name', sa.String(length=100), nullable=False),
    sa.Column('item_sku', _sorted_text(120), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.Integer(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('customer_id', sa.String(length=255), nullable=False),
    sa.Column('customer_name', _sorted_text(255), nullable=False),
    sa.Column('character_class', sa.String(length=255), nullable=False),
    sa.Column('character_species', sa.String(length=255), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('game_day', sa.String(length=20), nullable=True),
    sa.Column('game_hour', sa.SmallInteger(), nullable=True),
    sa.CheckConstraint('quantity > 0 AND unit_price >= 0 AND total = quantity * unit_price',
                       name='ck_sale_lines_total'),
    sa.ForeignKeyConstraint(['account_transaction_id'], ['account_transactions.id'], ),
    sa.ForeignKeyConstraint(['cart_id'], ['carts.cart_id'], ),
    sa.ForeignKeyConstraint(['sku'], ['potions.sku'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_transaction_id', 'sku', name='uq_sale_lines_transaction_sku')
    )
    op.execute(BACKFILL)
    for column in SORTED:
        op.create_index(f'ix_sale_lines_{column}', 'sale_lines', [column, 'id'])
        op.create_index(f'ix_sale_lines_sku_{column}', 'sale_lines', ['sku', column, 'id'])
    op.create_index('ix_sale_lines_cart_id', 'sale_lines', ['cart_id'])
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_sale_lines_customer_name_trigram ON sale_lines "
                   "USING gin (lower(customer_name) gin_trgm_ops)")
        op.execute("CREATE TRIGGER sale_lines_append_only BEFORE UPDATE OR DELETE ON sale_lines "
                   "FOR EACH ROW EXECUTE FUNCTION cauldrons_refuse_change()")
        op.execute("CREATE TRIGGER sale_lines_no_truncate BEFORE TRUNCATE ON sale_lines "
                   "FOR EACH STATEMENT EXECUTE FUNCTION cauldrons_refuse_change()")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER sale_lines_no_{event.lower()} BEFORE {event} ON sale_lines "
                       f"BEGIN SELECT RAISE(ABORT, 'sale_lines is append-only: {event} refused'); END")


def downgrade() -> None:
    op.drop_table('sale_lines')  # its indexes and triggers go with it; pg_trgm stays for whoever else uses it
