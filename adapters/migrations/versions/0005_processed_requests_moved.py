"""Each stored reply says whether its request appended a ledger transaction.

A request that moves nothing (an empty delivery, an empty cart's checkout, a reset of a shop as it started) books
no transaction. With `moved` stored beside the reply, `ledger verify` again holds every booking request to its word:
a success that says it moved must have exactly one transaction, one that says it did not, none. Replies stored
before this revision have NULL and are held to what can be said of them: a success booked at most one.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('processed_requests', sa.Column('moved', sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('processed_requests') as batch:
        batch.drop_column('moved')
