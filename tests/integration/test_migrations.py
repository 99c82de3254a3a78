from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from adapters import migrations, orm
from adapters.db import make_engine


def test_the_migrated_schema_is_exactly_the_mapped_one(database_url):
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
        assert set(inspect(conn).get_table_names()) >= {"accounts", "account_transactions", "account_ledger_entries",
                                                         "processed_requests", "potions", "carts", "cart_items"}
    engine.dispose()


def test_an_empty_database_is_migrated_and_seeded_with_potions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/new.db")
    migrations.upgrade(engine)
    with engine.connect() as conn:
        skus = conn.execute(select(orm.potions.c.sku)).scalars().all()
    engine.dispose()
    assert {"RED_POTION", "GREEN_POTION", "BLUE_POTION", "DARK_POTION"} <= set(skus)
