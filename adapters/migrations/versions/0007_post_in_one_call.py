"""PostgreSQL appends a posting in one call, re-checking under its locks what the domain checked on a snapshot.

`cauldrons_post(...)` is the whole write of a ledger transaction:
1. it locks the accounts the transaction moves (and, when the capacity rule applies, every account of the shop)
   FOR UPDATE in id order;
2. reads their latest balances after the locks were granted (a new statement: a fresh snapshot);
3. re-checks the domain's rules against them: no shop balance below zero and, with `p_capacity`, no more potions
   or ml than the capacity allows unless there were already more before (`domain.inventory.check_covers`; the
   units are passed in, so the domain's constants stay the only ones). A rule broken here means the books moved
   since the snapshot the domain checked: SQLSTATE 40001, and the use case is run again, so the refusal a client
   sees is always the domain's;
4. appends the transaction and its entries with their running balances in one statement (the balance triggers of
   0002 and 0004 check them as before), stamped no earlier than the latest entry on those accounts;
5. returns the transaction's id, its time, and each entry's running balance in the order given.

The locks are taken at the write, not when the balances are first read, so a posting holds them for the last
statements of its unit of work only.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

FUNCTION = """
CREATE FUNCTION cauldrons_post(
    p_created_at timestamp, p_kind varchar, p_description text, p_game_day varchar, p_game_hour integer,
    p_request_route varchar, p_request_key varchar,
    p_account_ids bigint[], p_changes bigint[],
    p_capacity boolean, p_potions_per_unit bigint, p_ml_per_unit bigint)
RETURNS TABLE (id bigint, created_at timestamp, balances bigint[])
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_ids bigint[];  -- the accounts read under the locks, with their owners, commodities, balances and net changes
    v_owners varchar[];
    v_commodities varchar[];
    v_balances bigint[];
    v_changes bigint[];
    v_at timestamp;
    v_id bigint;
    v_after bigint[];
    v_broken text;
BEGIN
    PERFORM 1 FROM accounts a WHERE a.id = ANY(p_account_ids) OR (p_capacity AND a.owner = 'shop')
      ORDER BY a.id FOR UPDATE;

    SELECT array_agg(a.id ORDER BY a.id), array_agg(a.owner ORDER BY a.id), array_agg(a.commodity ORDER BY a.id),
           array_agg(COALESCE(e.balance_after, 0) ORDER BY a.id),
           array_agg(COALESCE((SELECT sum(m.change) FROM unnest(p_account_ids, p_changes) AS m(account_id, change)
                                WHERE m.account_id = a.id), 0) ORDER BY a.id),
           greatest(p_created_at, max(e.created_at) FILTER (WHERE a.id = ANY(p_account_ids)))
      INTO v_ids, v_owners, v_commodities, v_balances, v_changes, v_at
      FROM accounts a
      LEFT JOIN LATERAL (SELECT x.balance_after, x.created_at FROM account_ledger_entries x
                          WHERE x.account_id = a.id ORDER BY x.created_at DESC, x.id DESC LIMIT 1) e ON true
     WHERE a.id = ANY(p_account_ids) OR (p_capacity AND a.owner = 'shop');
    IF EXISTS (SELECT 1 FROM unnest(p_account_ids) AS m(id) WHERE m.id <> ALL(COALESCE(v_ids, '{}'))) THEN
        RAISE EXCEPTION 'cauldrons_post: no such account among %', p_account_ids USING ERRCODE = 'foreign_key_violation';
    END IF;

    WITH shop AS (
        SELECT h.commodity, h.balance AS before, h.balance + h.change AS after
          FROM unnest(v_owners, v_commodities, v_balances, v_changes) AS h(owner, commodity, balance, change)
         WHERE h.owner = 'shop'
    ), totals AS (
        SELECT sum(before) FILTER (WHERE commodity LIKE 'potion:%') AS potions_before,
               sum(after) FILTER (WHERE commodity LIKE 'potion:%') AS potions_after,
               sum(before) FILTER (WHERE commodity LIKE 'ml:%') AS ml_before,
               sum(after) FILTER (WHERE commodity LIKE 'ml:%') AS ml_after,
               sum(after) FILTER (WHERE commodity = 'potion_capacity') AS potion_units,
               sum(after) FILTER (WHERE commodity = 'ml_capacity') AS ml_units
          FROM shop
    )
    SELECT COALESCE(
        (SELECT string_agg('shop/' || commodity || ' would be ' || after, ', ') FROM shop WHERE after < 0),
        CASE WHEN NOT p_capacity THEN NULL
             WHEN potions_after > greatest(potion_units * p_potions_per_unit, potions_before)
               THEN 'the shop would hold ' || potions_after || ' potions'
             WHEN ml_after > greatest(ml_units * p_ml_per_unit, ml_before)
               THEN 'the shop would hold ' || ml_after || ' ml'
        END) INTO v_broken
      FROM totals;
    IF v_broken IS NOT NULL THEN
        RAISE EXCEPTION 'the books moved since they were checked: %', v_broken USING ERRCODE = 'serialization_failure';
    END IF;

    WITH txn AS (
        INSERT INTO account_transactions (created_at, kind, description, game_day, game_hour, request_route,
                                          request_key)
        VALUES (v_at, p_kind, p_description, p_game_day, p_game_hour, p_request_route, p_request_key)
        RETURNING account_transactions.id
    ), moved AS (
        SELECT m.account_id, m.change, m.n, h.owner = 'shop' AS non_negative,
               h.balance + sum(m.change) OVER (PARTITION BY m.account_id ORDER BY m.n) AS balance_after
          FROM unnest(p_account_ids, p_changes) WITH ORDINALITY AS m(account_id, change, n)
          JOIN unnest(v_ids, v_owners, v_balances) AS h(id, owner, balance) ON h.id = m.account_id
    ), entries AS (
        INSERT INTO account_ledger_entries (account_id, account_transaction_id, change, balance_after, created_at,
                                            non_negative)
        SELECT moved.account_id, txn.id, moved.change, moved.balance_after, v_at, moved.non_negative
          FROM txn, moved ORDER BY moved.n
    )
    SELECT txn.id, (SELECT COALESCE(array_agg(moved.balance_after ORDER BY moved.n), '{}') FROM moved)
      INTO v_id, v_after FROM txn;
    RETURN QUERY SELECT v_id, v_at, v_after;
END $$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION cauldrons_post(timestamp, varchar, text, varchar, integer, varchar, varchar, "
                   "bigint[], bigint[], boolean, bigint, bigint)")
