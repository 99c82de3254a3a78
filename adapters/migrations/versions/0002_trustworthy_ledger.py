"""A ledger the database itself keeps honest: running balances, append-only tables, balanced transactions.

- Every entry carries its account's balance after it (`balance_after`) and its transaction's time (`created_at`),
  indexed by (account, time), so a balance now or at any moment is one index probe. Existing entries are backfilled.
- Accounts say whether they may go below zero (`non_negative`: the shop's may not). Entries copy the flag under a
  composite foreign key, so a CHECK on the entry can refuse a negative shop balance.
- Triggers refuse UPDATE, DELETE and TRUNCATE on accounts, transactions, entries and processed requests, and refuse
  an entry whose `balance_after` is not the account's previous balance plus its change, or whose time goes back.
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
BEGIN
    SELECT RAISE(ABORT, 'account_ledger_entries: balance_after must be the previous balance plus change, in time order');
END
"""


def _backfill() -> None:
    """Running balances, times and flags for the entries written before this revision, in one pass each.

    Times were the application's clock, which may have gone back: each transaction's time is first raised to the
    latest before it (in id order), so that time order and entry order agree, as the readers and triggers expect.
    """
    op.execute("UPDATE accounts SET non_negative = (owner = 'shop')")
    op.execute("""
        UPDATE account_transactions SET created_at = c.latest
          FROM (SELECT id, MAX(created_at) OVER (ORDER BY id) AS latest FROM account_transactions) c
         WHERE account_transactions.id = c.id AND account_transactions.created_at < c.latest
    """)
    op.execute("""
        UPDATE account_ledger_entries SET balance_after = s.running, created_at = s.created_at,
                                          non_negative = s.non_negative
          FROM (SELECT e.id, SUM(e.change) OVER (PARTITION BY e.account_id ORDER BY e.id) AS running,
                       t.created_at, a.non_negative
                  FROM account_ledger_entries e
                  JOIN account_transactions t ON t.id = e.account_transaction_id
                  JOIN accounts a ON a.id = e.account_id) s
         WHERE account_ledger_entries.id = s.id
    """)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    # Plain ALTERs (no table rebuild on SQLite: `accounts` is referenced, so it could not be dropped and copied).
    op.add_column('accounts', sa.Column('non_negative', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index('uq_accounts_id_non_negative', 'accounts', ['id', 'non_negative'], unique=True)
    for column in (sa.Column('balance_after', sa.BigInteger()), sa.Column('created_at', sa.DateTime()),
                   sa.Column('non_negative', sa.Boolean())):
        op.add_column('account_ledger_entries', column)
    _backfill()
    with op.batch_alter_table('account_ledger_entries', schema=None, recreate='always' if not postgres else 'auto'
                              ) as batch_op:
        for column in ('balance_after', 'created_at', 'non_negative'):
            batch_op.alter_column(column, nullable=False)
        batch_op.create_foreign_key('fk_account_ledger_entries_account_flag', 'accounts',
                                    ['account_id', 'non_negative'], ['id', 'non_negative'])
        batch_op.create_check_constraint('ck_account_ledger_entries_non_negative',
                                         'balance_after >= 0 OR NOT non_negative')
        batch_op.drop_index('ix_account_ledger_entries_account_id')
        batch_op.create_index('ix_account_ledger_entries_account_time', ['account_id', 'created_at', 'id'])

    if postgres:
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
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
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
    with op.batch_alter_table('account_ledger_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_account_ledger_entries_account_time')
        batch_op.create_index('ix_account_ledger_entries_account_id', ['account_id'])
        batch_op.drop_constraint('ck_account_ledger_entries_non_negative', type_='check')
        batch_op.drop_constraint('fk_account_ledger_entries_account_flag', type_='foreignkey')
        batch_op.drop_column('non_negative')
        batch_op.drop_column('created_at')
        batch_op.drop_column('balance_after')
    op.drop_index('uq_accounts_id_non_negative', 'accounts')
    op.drop_column('accounts', 'non_negative')
