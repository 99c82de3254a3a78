"""A cart and its lines in one call: `cauldrons_cart(cart_id)` (PostgreSQL).

It locks the cart FOR UPDATE, then reads the cart with its lines (as two arrays, in line order) in a statement of
its own: each statement of a volatile PL/pgSQL function takes a fresh snapshot under READ COMMITTED, so after a
wait for the lock it reads the lines the holder committed, where one statement that locked and joined would
re-check only the locked row and return the lines from before the wait. No row: no such cart.

SQLite needs no function: a unit of work there holds the database's write lock from its first statement.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

FUNCTION = """
CREATE FUNCTION cauldrons_cart(p_cart_id bigint)
RETURNS TABLE (cart_id bigint, customer_id text, customer_name text, character_class text, character_species text,
               level smallint, status text, payment text, skus text[], quantities integer[])
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM 1 FROM carts c WHERE c.cart_id = p_cart_id FOR UPDATE;
    RETURN QUERY
        SELECT c.cart_id, c.customer_id::text, c.customer_name::text, c.character_class::text,
               c.character_species::text, c.level, c.status::text, c.payment::text,
               ARRAY(SELECT i.sku::text FROM cart_items i WHERE i.cart_id = c.cart_id ORDER BY i.id),
               ARRAY(SELECT i.quantity FROM cart_items i WHERE i.cart_id = c.cart_id ORDER BY i.id)
          FROM carts c WHERE c.cart_id = p_cart_id;
END $$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION cauldrons_cart(bigint)")
