import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from adapters import migrations, orm
from adapters.db import make_engine


@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_the_migrated_schema_is_exactly_the_tables_in_orm_py(database_url):
    """(SQLite cannot reflect expression indexes; the trigram indexes are PostgreSQL's only, and compared there.)"""
    engine = make_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), orm.metadata)
        assert migrations.current(conn) == migrations.head()
    engine.dispose()
    assert diff == []


def test_upgrading_an_up_to_date_database_does_nothing(database_url):
    engine = make_engine(database_url)
    migrations.upgrade(engine)
    with engine.connect() as conn:
        assert migrations.current(conn) == migrations.head()
        assert set(inspect(conn).get_table_names()) >= {
            "accounts",
            "account_transactions",
            "account_ledger_entries",
            "processed_requests",
            "potions",
            "carts",
            "cart_items",
        }
    engine.dispose()


def test_an_empty_database_is_migrated_and_seeded_with_potions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/new.db")
    migrations.upgrade(engine)
    with engine.connect() as conn:
        skus = conn.execute(select(orm.potions.c.sku)).scalars().all()
    engine.dispose()
    assert {"RED_POTION", "GREEN_POTION", "BLUE_POTION", "DARK_POTION"} <= set(skus)


APPEND_ONLY = (
    "accounts",
    "account_transactions",
    "account_ledger_entries",
    "processed_requests",
    "sale_lines",
    "barrel_offers",
    "shelf",
    "visit_catalogs",
    "secrets",
)
EXPECTED_TRIGGERS = {
    "sqlite": {f"{t}_no_{op}" for t in APPEND_ONLY for op in ("update", "delete")}
    | {
        "account_ledger_entries_running_balance",
        "sale_lines_roll_up",
        "sale_lines_roll_up_buyers",
        "visit_customers_roll_up",
    },
    "postgresql": {f"{t}_{kind}" for t in APPEND_ONLY for kind in ("append_only", "no_truncate")}
    | {"account_ledger_entries_running_balance", "account_ledger_entries_balanced"}
    | {"sale_lines_roll_up", "sale_lines_roll_up_buyers", "visit_customers_roll_up"},
}


def test_the_newest_schema_has_every_guarding_trigger(database_url):
    """Triggers are invisible to the schema comparison above: a later migration that rebuilt a table on SQLite
    would drop them silently."""
    engine = make_engine(database_url)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars()
        else:
            names = conn.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).scalars()
        found = set(names)
    engine.dispose()
    assert found == EXPECTED_TRIGGERS[engine.dialect.name]


# The functions the newest PostgreSQL schema has: the posting path's (`cauldrons_lock`, `_snapshot`, `_post`,
# `_post_now`, `_cart`, `_sale_lines`) and the triggers'. No key-claim function: since migration 0015 none is left
# for a reader to think twins wait on.
EXPECTED_FUNCTIONS = {
    "cauldrons_lock",
    "cauldrons_snapshot",
    "cauldrons_post",
    "cauldrons_post_now",
    "cauldrons_cart",
    "cauldrons_sale_lines",
    "cauldrons_refuse_change",
    "cauldrons_check_running_balance",
    "cauldrons_check_balanced_statement",
    "cauldrons_roll_up_sales",
    "cauldrons_roll_up_visits",
    "cauldrons_roll_up_buyers",
}
FUNCTIONS = "SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND proname LIKE 'cauldrons%'"


def test_the_newest_schema_has_the_functions_the_shop_calls_and_no_others(pg_url):
    engine = make_engine(pg_url)
    with engine.connect() as conn:
        found = set(conn.execute(text(FUNCTIONS)).scalars())
    engine.dispose()
    assert found == EXPECTED_FUNCTIONS


def test_a_downgrade_past_0015_brings_the_key_claims_back_and_an_upgrade_drops_them_again(pg_url):
    engine = make_engine(pg_url)
    with engine.begin() as conn:
        command.downgrade(migrations.alembic_config(conn), "0014")
        back = set(conn.execute(text(FUNCTIONS)).scalars()) - EXPECTED_FUNCTIONS
        claimed = conn.execute(text("SELECT fingerprint, status FROM cauldrons_claim_key('nowhere', 'new')")).all()
    migrations.upgrade(engine)
    with engine.connect() as conn:
        again = set(conn.execute(text(FUNCTIONS)).scalars())
    engine.dispose()
    assert back == {"cauldrons_claim", "cauldrons_claim_at", "cauldrons_claim_key"}
    assert claimed == [(None, None)]  # the restored function works: no reply stored for a new key
    assert again == EXPECTED_FUNCTIONS
