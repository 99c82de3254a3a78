"""Secrets the shop keeps: the key that signs page tokens is its own, not derived from the API key.

- `secrets` holds, per purpose (today only `page_tokens`), every secret the shop ever had, numbered by
  `generation` (1, 2, ...); the newest generation of a purpose is its secret. Rotating appends generation n + 1,
  so what was signed with generation n is refused from then on. Append-only: a secret is never changed or
  deleted, only superseded.
- The unique (purpose, generation) is what makes starting processes agree: each tries to insert generation 1 when
  the purpose has none, one wins, and all of them read back the same row.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
APPEND_ONLY = ('secrets',)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table('secrets',
    sa.Column('id', ID, nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('value', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('generation >= 1', name='ck_secrets_generation'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('purpose', 'generation', name='uq_secrets_purpose_generation')
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


def downgrade() -> None:
    op.drop_table('secrets')
