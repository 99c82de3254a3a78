"""The shop's schema: the ledger, processed requests, potions (seeded), carts, visits and the game clock.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

from domain.potions import DEFAULT_POTIONS

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('account_transactions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('game_day', sa.String(length=20), nullable=True),
    sa.Column('game_hour', sa.SmallInteger(), nullable=True),
    sa.Column('request_route', sa.String(length=64), nullable=True),
    sa.Column('request_key', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('account_transactions', schema=None) as batch_op:
        batch_op.create_index('ix_account_transactions_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_account_transactions_request', ['request_route', 'request_key'], unique=False)

    op.create_table('accounts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('owner', sa.String(length=32), nullable=False),
    sa.Column('commodity', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('owner', 'commodity', name='uq_accounts_owner_commodity')
    )
    op.create_table('carts',
    sa.Column('cart_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.String(length=255), nullable=False),
    sa.Column('customer_name', sa.String(length=255), nullable=False),
    sa.Column('character_class', sa.String(length=255), nullable=False),
    sa.Column('character_species', sa.String(length=255), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('payment', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('game_day', sa.String(length=20), nullable=True),
    sa.Column('game_hour', sa.SmallInteger(), nullable=True),
    sa.PrimaryKeyConstraint('cart_id')
    )
    op.create_table('game_clock',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.String(length=20), nullable=False),
    sa.Column('hour', sa.SmallInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    potions = op.create_table('potions',
    sa.Column('sku', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('red', sa.SmallInteger(), nullable=False),
    sa.Column('green', sa.SmallInteger(), nullable=False),
    sa.Column('blue', sa.SmallInteger(), nullable=False),
    sa.Column('dark', sa.SmallInteger(), nullable=False),
    sa.Column('price', sa.Integer(), nullable=False),
    sa.CheckConstraint('price BETWEEN 1 AND 500', name='ck_potions_price'),
    sa.CheckConstraint('red >= 0 AND green >= 0 AND blue >= 0 AND dark >= 0 AND red + green + blue + dark = 100', name='ck_potions_recipe'),
    sa.PrimaryKeyConstraint('sku'),
    sa.UniqueConstraint('red', 'green', 'blue', 'dark', name='uq_potions_recipe')
    )
    op.bulk_insert(potions, [
        {"sku": p.sku, "name": p.name, "price": p.price, "red": p.potion_type.red, "green": p.potion_type.green,
         "blue": p.potion_type.blue, "dark": p.potion_type.dark}
        for p in DEFAULT_POTIONS
    ])
    op.create_table('processed_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('route', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status', sa.SmallInteger(), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=True),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('route', 'key', name='uq_processed_requests_route_key')
    )
    op.create_table('visits',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('visit_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('game_day', sa.String(length=20), nullable=True),
    sa.Column('game_hour', sa.SmallInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('account_ledger_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('change', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ),
    sa.ForeignKeyConstraint(['account_transaction_id'], ['account_transactions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('account_ledger_entries', schema=None) as batch_op:
        batch_op.create_index('ix_account_ledger_entries_account_id', ['account_id'], unique=False)
        batch_op.create_index('ix_account_ledger_entries_transaction_id', ['account_transaction_id'], unique=False)

    op.create_table('cart_items',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cart_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sku', sa.String(length=20), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cart_id'], ['carts.cart_id'], ),
    sa.ForeignKeyConstraint(['sku'], ['potions.sku'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cart_id', 'sku', name='uq_cart_items_cart_sku')
    )
    op.create_table('visit_customers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('visit_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.String(length=255), nullable=False),
    sa.Column('customer_name', sa.String(length=255), nullable=False),
    sa.Column('character_class', sa.String(length=255), nullable=False),
    sa.Column('character_species', sa.String(length=255), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.ForeignKeyConstraint(['visit_pk'], ['visits.id'], ),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('visit_customers')
    op.drop_table('cart_items')
    with op.batch_alter_table('account_ledger_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_account_ledger_entries_transaction_id')
        batch_op.drop_index('ix_account_ledger_entries_account_id')

    op.drop_table('account_ledger_entries')
    op.drop_table('visits')
    op.drop_table('processed_requests')
    op.drop_table('potions')
    op.drop_table('game_clock')
    op.drop_table('carts')
    op.drop_table('accounts')
    with op.batch_alter_table('account_transactions', schema=None) as batch_op:
        batch_op.drop_index('ix_account_transactions_request')
        batch_op.drop_index('ix_account_transactions_created_at')

    op.drop_table('account_transactions')
