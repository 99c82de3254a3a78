"""What the shop shows and learns from: the shelf it plans each tick, the catalog each visit was shown, and blends.

- `shelf` holds, for every game tick the exchange told, the price of every potion at that tick and the rank of the
  ones the planner chose to show (NULL for the rest): the catalog's prices now are the latest tick's rows, and
  their history is the price tests the planner learns from. Append-only.
- `visit_catalogs` holds what each visit was shown: sku, price and quantity as the catalog stood when the visit was
  recorded. With the visitors and the sale lines it tells demand apart from stock-outs. Append-only.
- Potions: the two-colour blends in quarters (`domain.potions.BLENDS`) join the seeded potions, so a class whose
  taste lies between two colours can be served.
- PostgreSQL: `cauldrons_cart` also returns each line's price now (the latest shelf price, else the list price), so
  a checkout still reads its cart and prices in one call.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

from adapters.migrations import earlier_sql

from domain.potions import BLENDS

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
APPEND_ONLY = ('shelf', 'visit_catalogs')

CART_V2 = """
CREATE FUNCTION cauldrons_cart(p_cart_id bigint)
RETURNS TABLE (cart_id bigint, customer_id text, customer_name text, character_class text, character_species text,
               level smallint, status text, payment text, skus text[], quantities integer[], prices integer[])
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM 1 FROM carts c WHERE c.cart_id = p_cart_id FOR UPDATE;
    RETURN QUERY
        SELECT c.cart_id, c.customer_id::text, c.customer_name::text, c.character_class::text,
               c.character_species::text, c.level, c.status::text, c.payment::text,
               ARRAY(SELECT i.sku::text FROM cart_items i WHERE i.cart_id = c.cart_id ORDER BY i.id),
               ARRAY(SELECT i.quantity FROM cart_items i WHERE i.cart_id = c.cart_id ORDER BY i.id),
               ARRAY(SELECT COALESCE((SELECT s.price FROM shelf s WHERE s.sku = i.sku ORDER BY s.id DESC LIMIT 1),
                                     (SELECT p.price FROM potions p WHERE p.sku = i.sku))
                       FROM cart_items i WHERE i.cart_id = c.cart_id ORDER BY i.id)
          FROM carts c WHERE c.cart_id = p_cart_id;
END $$;
"""


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table('shelf',
    sa.Column('id', ID, nullable=False),
    sa.Column('tick_id', ID, nullable=False),
    sa.Column('sku', sa.String(length=20), nullable=False),
    sa.Column('price', sa.Integer(), nullable=False),
    sa.Column('rank', sa.SmallInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('price BETWEEN 1 AND 500', name='ck_shelf_price'),
    sa.ForeignKeyConstraint(['tick_id'], ['game_clock.id'], ),
    sa.ForeignKeyConstraint(['sku'], ['potions.sku'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tick_id', 'sku', name='uq_shelf_tick_sku')
    )
    op.create_index('ix_shelf_sku_id', 'shelf', ['sku', 'id'])
    op.create_table('visit_catalogs',
    sa.Column('id', ID, nullable=False),
    sa.Column('visit_pk', ID, nullable=False),
    sa.Column('sku', sa.String(length=20), nullable=False),
    sa.Column('price', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['visit_pk'], ['visits.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_visit_catalogs_visit_pk', 'visit_catalogs', ['visit_pk'])
    op.bulk_insert(
        sa.table('potions', sa.column('sku'), sa.column('name'), sa.column('red'), sa.column('green'),
                 sa.column('blue'), sa.column('dark'), sa.column('price')),
        [{'sku': p.sku, 'name': p.name, 'red': p.potion_type.red, 'green': p.potion_type.green,
          'blue': p.potion_type.blue, 'dark': p.potion_type.dark, 'price': p.price} for p in BLENDS],
    )
    for table in APPEND_ONLY:
        if postgres:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION cauldrons_refuse_change()")
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION cauldrons_refuse_change()")
        else:
            for event in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {event} refused'); END")
    if postgres:
        op.execute("DROP FUNCTION cauldrons_cart(bigint)")
        op.execute(CART_V2)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION cauldrons_cart(bigint)")
        op.execute(earlier_sql("0010_cart_in_one_call.py", "FUNCTION"))
    op.drop_table('visit_catalogs')
    op.drop_table('shelf')
    potions = sa.table('potions', sa.column('sku'))
    op.execute(potions.delete().where(potions.c.sku.in_([p.sku for p in BLENDS])))
