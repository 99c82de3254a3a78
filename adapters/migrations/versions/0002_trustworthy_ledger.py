"""A ledger the database itself keeps honest: running balances, append-only tables, balanced transactions.

- Every entry carries its account's balance after it (`balance_after`), its time (`created_at`) and whether its
  account is the shop's (`non_negative`), indexed by (account, time), so a balance now or at any moment is one index
  probe. The entries table is rebuilt, not updated: its rows are copied aside, the table is made anew, and every row
  comes back with the new columns computed in one pass (an entry's time is its transaction's, raised where an old
  application clock went back, so that each account's time order is its entry order).
- A CHECK refuses a negative balance on an entry flagged `non_negative`.
- Triggers refuse UPDATE, DELETE and TRUNCATE on accounts, transactions, entries and processed requests, and refuse
  an entry whose `balance_after` is not the account's previous balance plus its change, whose time goes back, or
  whose flag does not say whether the account is the shop's.
- PostgreSQL only: a deferred constraint trigger refuses, at commit, a transaction that does not net to zero per
  commodity. (SQLite has no deferred triggers; there the domain model and `cauldrons ledger verify` check it.)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

APPEND_ONLY = ("accounts", "account_transactions", "account_ledger_entries", "processed_requests")

PG_FUNCTIONS = """
CREATE FUNCTION cauldrons_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE FUNCTION cauldrons_check_running_balance() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    previous_balance bigint;
    previous_time timestamp;
BEGIN
    SELECT balance_after, created_at INTO previous_balance, previous_time FROM account_ledger_entries
     WHERE account_id = NEW.account_id ORDER BY created_at DESC, id DESC LIMIT 1;
    IF NEW.balance_after <> COALESCE(previous_balance, 0) + NEW.change THEN
        RAISE EXCEPTION 'account %: balance_after % is not % + %', NEW.account_id, NEW.balance_after,
            COALESCE(previous_balance, 0), NEW.change USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.created_at < previous_time THEN
        RAISE EXCEPTION 'account %: entry at % is older than the one before it (%)', NEW.account_id,
            NEW.created_at, previous_time USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.non_negative IS DISTINCT FROM (SELECT owner = 'shop' FROM accounts WHERE id = NEW.account_id) THEN
        RAISE EXCEPTION 'account %: non_negative must say whether the account is the shop''s', NEW.account_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE FUNCTION cauldrons_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unbalanced text;
BEGIN
    SELECT a.commodity INTO unbalanced
      FROM account_ledger_entries e JOIN accounts a ON a.id = e.account_id
     WHERE e.account_transaction_id = NEW.account_transaction_id
     GROUP BY a.commodity HAVING SUM(e.change) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'transaction % does not net to zero in %', NEW.account_transaction_id, unbalanced
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
"""

SQLITE_RUNNING_BALANCE = """
CREATE TRIGGER account_ledger_entries_running_balance BEFORE INSERT ON account_ledger_entries
WHEN NEW.balance_after IS NOT COALESCE((SELECT balance_after FROM account_ledger_entries
                                        WHERE account_id = NEW.account_id ORDER BY created_at DESC, id DESC LIMIT 1), 0)
                               + NEW.change
  OR NEW.created_at < (SELECT MAX(created_at) FROM account_ledger_entries WHERE account_id = NEW.account_id)
  OR NEW.non_negative IS NOT ((SELECT owner FROM accounts WHERE id = NEW.account_id) = 'shop')
BEGIN
    SELECT RAISE(ABORT, 'account_ledger_entries: balance_after must be the previous balance plus change, in time order, and non_negative must say whether the account is the shop''s');
END
"""

# The entries of revision 0001, with the new columns computed: running sums and running latest times per account in
# entry order, and the shop's flag.
COPY_BACK = """
INSERT INTO account_ledger_entries (id, account_id, account_transaction_id, change, balance_after, created_at,
                                    non_negative)
SELECT e.id, e.account_id, e.account_transaction_id, e.change, SUM(e.change) OVER running,
       MAX(t.created_at) OVER running, a.owner = 'shop'
  FROM entries_0001 e
  JOIN account_transactions t ON t.id = e.account_transaction_id
  JOIN accounts a ON a.id = e.account_id
WINDOW running AS (PARTITION BY e.account_id ORDER BY e.id)
 ORDER BY e.id
"""


def _rebuild_entries(copy_back: str, *columns: sa.Column, checks: tuple[sa.CheckConstraint, ...] = ()) -> None:
    """Copy the entries aside, make the table anew with `columns`, and bring every row back with `copy_back`."""
    op.execute("CREATE TEMPORARY TABLE entries_0001 AS "
               "SELECT id, account_id, account_transaction_id, change FROM account_ledger_entries")
    op.drop_table('account_ledger_entries')
    op.create_table('account_ledger_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('change', sa.BigInteger(), nullable=False),
    *columns,
    *checks,
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ),
    sa.ForeignKeyConstraint(['account_transaction_id'], ['account_transactions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_account_ledger_entries_transaction_id', 'account_ledger_entries', ['account_transaction_id'])
    op.execute(copy_back)
    op.execute("DROP TABLE entries_0001")
    if op.get_bind().dialect.name == "postgresql":  # the new id sequence goes on after the copied ids
        op.execute("SELECT setval(pg_get_serial_sequence('account_ledger_entries', 'id'), "
                   "COALESCE(MAX(id), 0) + 1, false) FROM account_ledger_entries")


def upgrade() -> None:
    _rebuild_entries(
        COPY_BACK,
        sa.Column('balance_after', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('non_negative', sa.Boolean(), nullable=False),
        checks=(sa.CheckConstraint('balance_after >= 0 OR NOT non_negative',
                                   name='ck_account_ledger_entries_non_negative'),))
    op.create_index('ix_account_ledger_entries_account_time', 'account_ledger_entries',
                    ['account_id', 'created_at', 'id'])

    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTIONS)
        for table in APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION cauldrons_refuse_change()")
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION cauldrons_refuse_change()")
        op.execute("CREATE TRIGGER account_ledger_entries_running_balance BEFORE INSERT ON account_ledger_entries "
                   "FOR EACH ROW EXECUTE FUNCTION cauldrons_check_running_balance()")
        op.execute("CREATE CONSTRAINT TRIGGER account_ledger_entries_balanced AFTER INSERT ON account_ledger_entries "
                   "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cauldrons_check_balanced()")
    else:
        for table in APPEND_ONLY:
            for event in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {event} refused'); END")
        op.execute(SQLITE_RUNNING_BALANCE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER account_ledger_entries_balanced ON account_ledger_entries")
        op.execute("DROP TRIGGER account_ledger_entries_running_balance ON account_ledger_entries")
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION cauldrons_check_balanced(), cauldrons_check_running_balance(), "
                   "cauldrons_refuse_change()")
    else:
        op.execute("DROP TRIGGER account_ledger_entries_running_balance")
        for table in APPEND_ONLY:
            for event in ("update", "delete"):
                op.execute(f"DROP TRIGGER {table}_no_{event}")
    _rebuild_entries("INSERT INTO account_ledger_entries (id, account_id, account_transaction_id, change) "
                     "SELECT id, account_id, account_transaction_id, change FROM entries_0001 ORDER BY id")
    op.create_index('ix_account_ledger_entries_account_id', 'account_ledger_entries', ['account_id'])
