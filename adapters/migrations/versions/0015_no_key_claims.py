"""The request-key claims go (PostgreSQL): `cauldrons_claim` (0006), `cauldrons_claim_at` (0012) and
`cauldrons_claim_key` (0013).

No process claims a key in the database: every attempt guesses its key new and the unique (route, key) constraint on
the stored reply decides between twins at the COMMIT (`adapters.postgres.PgProcessedRequests`). Nothing calls these
functions; kept, they would only mislead a reader into thinking twins wait on an advisory lock.

A downgrade creates them again from the migrations that first made them, so their SQL stays written in one place.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28
"""
from alembic import op

from adapters.migrations import earlier_sql

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

CLAIMS = ("cauldrons_claim(text, text)", "cauldrons_claim_at(text, text)", "cauldrons_claim_key(text, text)")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION {', '.join(CLAIMS)}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        claim, _lock = earlier_sql("0006_posting_functions.py", "FUNCTIONS").split("CREATE FUNCTION cauldrons_lock")
        op.execute(claim)
        op.execute(earlier_sql("0012_claim_tells_the_time.py", "CLAIM_AT"))
        op.execute(earlier_sql("0013_replay_outside_a_transaction.py", "CLAIM_KEY"))
