"""PostgreSQL checks that a transaction nets to zero once per inserting statement, not once per entry at commit.

Revision 0002's deferred constraint trigger ran for every entry at commit and re-summed the entry's whole
transaction each time: cost quadratic in a transaction's entries (bottling 1,000 mixes took over a second while
every shop account was locked). Now one AFTER INSERT trigger per statement, with the statement's rows as a
transition table, sums each transaction the statement touched once. It runs at the end of the statement, so a
transaction's entries must go in in one statement (the repository does so), and a statement that leaves any
transaction unbalanced, its own or an older one, is refused there and then.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

PER_STATEMENT = """
CREATE FUNCTION cauldrons_check_balanced_statement() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unbalanced record;
BEGIN
    SELECT e.account_transaction_id AS txn, a.commodity INTO unbalanced
      FROM account_ledger_entries e JOIN accounts a ON a.id = e.account_id
     WHERE e.account_transaction_id IN (SELECT DISTINCT account_transaction_id FROM inserted)
     GROUP BY e.account_transaction_id, a.commodity HAVING SUM(e.change) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'transaction % does not net to zero in %', unbalanced.txn, unbalanced.commodity
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has no such trigger: the domain model and `ledger verify` check the balance there
    op.execute("DROP TRIGGER account_ledger_entries_balanced ON account_ledger_entries")
    op.execute("DROP FUNCTION cauldrons_check_balanced()")
    op.execute(PER_STATEMENT)
    op.execute("CREATE TRIGGER account_ledger_entries_balanced AFTER INSERT ON account_ledger_entries "
               "REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT "
               "EXECUTE FUNCTION cauldrons_check_balanced_statement()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER account_ledger_entries_balanced ON account_ledger_entries")
    op.execute("DROP FUNCTION cauldrons_check_balanced_statement()")
    op.execute("""
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
""")
    op.execute("CREATE CONSTRAINT TRIGGER account_ledger_entries_balanced AFTER INSERT ON account_ledger_entries "
               "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cauldrons_check_balanced()")
