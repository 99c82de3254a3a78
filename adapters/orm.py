"""Tables: one schema for SQLite and PostgreSQL, read and written through Core (no mapped classes).

Ledger tables (`accounts`, `account_transactions`, `account_ledger_entries`), `processed_requests`, `sale_lines`,
`barrel_offers`, `game_clock` and visits are append-only: the repositories only ever INSERT into them and SELECT
from them, and for the first six the database's triggers refuse anything else (migrations 0002, 0003 and 0008).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)

from domain.clock import utcnow

metadata = MetaData()

# BIGINT on PostgreSQL; INTEGER (the rowid alias, which autoincrements) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")


def customer_columns(sorted_name: bool = False) -> list[Column[Any]]:
    """Who a customer is, as the exchange describes them (carts, visits and sale lines each keep a copy)."""
    return [
        Column("customer_id", String(255), nullable=False),
        Column("customer_name", sorted_text(255) if sorted_name else String(255), nullable=False),
        Column("character_class", String(255), nullable=False),
        Column("character_species", String(255), nullable=False),
        Column("level", SmallInteger, nullable=False),
    ]


def game_time_columns() -> list[Column[Any]]:
    """The game day and hour the exchange last told the shop (None before it ever did)."""
    return [Column("game_day", String(20)), Column("game_hour", SmallInteger)]


def sorted_text(length: int) -> String:
    """Text that is sorted and searched: compared by code point on both backends (PostgreSQL's "C" collation, as
    SQLite's BINARY and Python compare), and case-folded for ASCII letters only by `lower()` on both."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


accounts = Table(
    "accounts",
    metadata,
    Column("id", Id, primary_key=True),
    Column("owner", String(32), nullable=False),
    Column("commodity", String(64), nullable=False),
    UniqueConstraint("owner", "commodity", name="uq_accounts_owner_commodity"),
)

account_transactions = Table(
    "account_transactions",
    metadata,
    Column("id", Id, primary_key=True),
    Column("created_at", DateTime, nullable=False, default=utcnow),
    Column("kind", String(32), nullable=False),
    Column("description", Text, nullable=False),
    *game_time_columns(),
    Column("request_route", String(64)),
    Column("request_key", String(255)),
    Index("ix_account_transactions_created_at", "created_at"),
    Index("ix_account_transactions_request", "request_route", "request_key"),
)

# Each entry carries its account's running balance and its transaction's time, so the balance now is the account's
# latest entry and the balance at a moment the latest entry at or before it: one index probe either way. Per
# account, entries are written under the account's row lock, and `created_at` never goes back.
account_ledger_entries = Table(
    "account_ledger_entries",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("account_transaction_id", Id, ForeignKey("account_transactions.id"), nullable=False),
    Column("change", BigInteger, nullable=False),
    Column("balance_after", BigInteger, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("non_negative", Boolean, nullable=False),  # the account is the shop's (the insert trigger checks it)
    CheckConstraint("balance_after >= 0 OR NOT non_negative", name="ck_account_ledger_entries_non_negative"),
    Index("ix_account_ledger_entries_account_time", "account_id", "created_at", "id"),
    Index("ix_account_ledger_entries_transaction_id", "account_transaction_id"),
)

processed_requests = Table(
    "processed_requests",
    metadata,
    Column("id", Id, primary_key=True),
    Column("route", String(64), nullable=False),
    Column("key", String(255), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("status", SmallInteger, nullable=False),
    Column("content_type", String(100)),
    Column("body", LargeBinary, nullable=False),
    Column("moved", Boolean),  # whether it appended a ledger transaction (NULL: recorded before revision 0005)
    Column("created_at", DateTime, nullable=False, default=utcnow),
    UniqueConstraint("route", "key", name="uq_processed_requests_route_key"),
)

# The shop's sales fact table: one row per line sold, written with its sale transaction and never changed. It carries
# what metrics and order search need without a join: who bought (name, class, species, level), what (sku, name,
# quantity), the unit price paid and the total, and when (the sale transaction's wall time and game time).
SORTED = ("created_at", "customer_name", "item_sku", "total")  # the order search's sort columns
sale_lines = Table(
    "sale_lines",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_transaction_id", Id, ForeignKey("account_transactions.id"), nullable=False),
    Column("cart_id", Id, ForeignKey("carts.cart_id"), nullable=False),
    Column("sku", String(20), ForeignKey("potions.sku"), nullable=False),
    Column("potion_name", String(100), nullable=False),
    Column("item_sku", sorted_text(120), nullable=False),  # what the search shows and sorts: "2 red potion"
    Column("quantity", Integer, nullable=False),
    Column("unit_price", Integer, nullable=False),
    Column("total", BigInteger, nullable=False),
    *customer_columns(sorted_name=True),
    Column("created_at", DateTime, nullable=False),
    *game_time_columns(),
    CheckConstraint("quantity > 0 AND unit_price >= 0 AND total = quantity * unit_price", name="ck_sale_lines_total"),
    UniqueConstraint("account_transaction_id", "sku", name="uq_sale_lines_transaction_sku"),
    # keyset paging: per sort column, an index on (value, id) for all lines, one on (sku, value, id) for the lines
    # of one potion and one on (customer_name, value, id) for the lines of one customer name, the name's own being
    # (customer_name, id); the potion and name filters are resolved to skus and names first, each a walk of its own
    # index (migration 0018: the per-name indexes carry the sku on PostgreSQL, so a potion filter is read off them)
    *(Index(f"ix_sale_lines_{column}", column, "id") for column in SORTED),
    *(Index(f"ix_sale_lines_sku_{column}", "sku", column, "id") for column in SORTED),
    *(
        Index(f"ix_sale_lines_customer_name_{column}", "customer_name", column, "id", postgresql_include=["sku"])
        for column in SORTED
        if column != "customer_name"
    ),
    Index("ix_sale_lines_cart_id", "cart_id"),
)
# PostgreSQL: a trigram index serves the case-insensitive contains filter on the customer's name.
Index(
    "ix_sale_lines_customer_name_trigram",
    func.lower(sale_lines.c.customer_name).label("folded"),
    postgresql_using="gin",
    postgresql_ops={"folded": "gin_trgm_ops"},
).ddl_if(dialect="postgresql")

# Every customer name the sale lines carry, once (migration 0018): the order search matches a name filter against
# these first, then walks each matching name's lines. Written with the lines, in their transaction (on SQLite by
# `SqlSalesRepository`, on PostgreSQL by `cauldrons_sale_lines`), never changed or removed. On PostgreSQL a trigram
# index serves needles of three characters or more; shorter ones read the table, a row per name.
sale_customer_names = Table(
    "sale_customer_names",
    metadata,
    Column("customer_name", sorted_text(255), primary_key=True),
)
Index(
    "ix_sale_customer_names_trigram",
    func.lower(sale_customer_names.c.customer_name).label("folded"),
    postgresql_using="gin",
    postgresql_ops={"folded": "gin_trgm_ops"},
).ddl_if(dialect="postgresql")

potions = Table(
    "potions",
    metadata,
    Column("sku", String(20), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("red", SmallInteger, nullable=False),
    Column("green", SmallInteger, nullable=False),
    Column("blue", SmallInteger, nullable=False),
    Column("dark", SmallInteger, nullable=False),
    Column("price", Integer, nullable=False),
    UniqueConstraint("red", "green", "blue", "dark", name="uq_potions_recipe"),
    CheckConstraint(
        "red >= 0 AND green >= 0 AND blue >= 0 AND dark >= 0 AND red + green + blue + dark = 100",
        name="ck_potions_recipe",
    ),
    CheckConstraint("price BETWEEN 1 AND 500", name="ck_potions_price"),
)

carts = Table(
    "carts",
    metadata,
    Column("cart_id", Id, primary_key=True),
    *customer_columns(),
    Column("status", String(16), nullable=False),
    Column("payment", String(255)),
    Column("created_at", DateTime, nullable=False, default=utcnow),
    *game_time_columns(),
)

cart_items = Table(
    "cart_items",
    metadata,
    Column("id", Id, primary_key=True),
    Column("cart_id", Id, ForeignKey("carts.cart_id"), nullable=False),
    Column("sku", String(20), ForeignKey("potions.sku"), nullable=False),
    Column("quantity", Integer, nullable=False),
    UniqueConstraint("cart_id", "sku", name="uq_cart_items_cart_sku"),
)

visits = Table(
    "visits",
    metadata,
    Column("id", Id, primary_key=True),
    Column("visit_id", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False, default=utcnow),
    *game_time_columns(),
)

visit_customers = Table(
    "visit_customers",
    metadata,
    Column("id", Id, primary_key=True),
    Column("visit_pk", Id, ForeignKey("visits.id"), nullable=False),
    *customer_columns(),
)

game_clock = Table(
    "game_clock",
    metadata,
    Column("id", Id, primary_key=True),
    Column("day", String(20), nullable=False),
    Column("hour", SmallInteger, nullable=False),
    Column("created_at", DateTime, nullable=False, default=utcnow),
    Index("ix_game_clock_created_at", "created_at"),  # the balances over time: the ticks in [since, until]
)

# What the exchange offered at each game tick (migration 0008): one row per barrel type per tick (`tick_id`, the
# game clock's row), recorded by the first barrel plan of the tick; a repeated plan in the same tick adds nothing.
barrel_offers = Table(
    "barrel_offers",
    metadata,
    Column("id", Id, primary_key=True),
    Column("tick_id", Id, ForeignKey("game_clock.id"), nullable=False),
    Column("game_day", String(20), nullable=False),
    Column("game_hour", SmallInteger, nullable=False),
    Column("sku", String(64), nullable=False),
    Column("ml_per_barrel", Integer, nullable=False),
    Column("red", Float, nullable=False),
    Column("green", Float, nullable=False),
    Column("blue", Float, nullable=False),
    Column("dark", Float, nullable=False),
    Column("liquid", String(8), nullable=False),  # the one colour it holds, or "mixed"
    Column("price", Integer, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("tick_id", "sku", name="uq_barrel_offers_tick_sku"),
    Index("ix_barrel_offers_created_at", "created_at"),
)


# Rollups of the facts per wall-clock hour (`bucket`, the hour the rows were written in) and game day and hour, kept
# by the database's own triggers in the transaction that writes the facts (migration 0008), so they are exact: a
# metric sums the whole hours inside [since, until] from them and reads only the rows at the edges.
def rollup(name: str, keys: list[Column[Any]], sums: tuple[str, ...]) -> Table:
    """A rollup table: a wall-clock `bucket` and the game day, more `keys`, and BIGINT `sums`; unique per key."""
    columns: list[Column[Any]] = [
        Column("bucket", DateTime, nullable=False),
        Column("game_day", String(20), nullable=False),
        *keys,
    ]
    return Table(
        name,
        metadata,
        *columns,
        *(Column(total, BigInteger, nullable=False) for total in sums),
        UniqueConstraint(*(c.name for c in columns), name=f"uq_{name}"),
    )


def game_hour() -> Column[Any]:
    return Column("game_hour", SmallInteger, nullable=False)


sales_hourly = rollup(
    "sales_hourly", [game_hour(), Column("sku", String(20), nullable=False)], ("lines", "potions", "gold")
)
checkouts_hourly = rollup("checkouts_hourly", [game_hour()], ("carts", "potions", "gold"))
visits_hourly = rollup("visits_hourly", [game_hour()], ("visitors",))
# Who bought what per wall-clock day (migration 0009): class × species × level × potion is nearly as many rows per
# hour as the lines, but a day holds many lines of each. Game day '' for lines sold before the game had a time.
buyers_daily = rollup(
    "buyers_daily",
    [
        *(c for c in customer_columns() if c.name in ("character_class", "character_species", "level")),
        Column("sku", String(20), nullable=False),
    ],
    ("lines", "potions", "gold"),
)

# The metrics' indexes (migration 0008): on PostgreSQL each covers its metric's columns, so an aggregate over the
# history is an index-only scan of a narrow index, in game-time order, instead of a scan of the wide table.
Index(
    "ix_sale_lines_game_time",
    sale_lines.c.game_day,
    sale_lines.c.game_hour,
    sale_lines.c.sku,
    postgresql_include=["quantity", "total", "created_at", "cart_id"],
)
Index(
    "ix_sale_lines_buyer",
    sale_lines.c.character_class,
    sale_lines.c.character_species,
    sale_lines.c.level,
    sale_lines.c.sku,
    postgresql_include=["quantity", "total", "created_at", "game_day", "game_hour"],
)
Index("ix_visits_game_time", visits.c.game_day, visits.c.game_hour, postgresql_include=["created_at"])
Index("ix_visit_customers_visit_pk", visit_customers.c.visit_pk)
Index(
    "ix_account_transactions_kind_game_time",
    account_transactions.c.kind,
    account_transactions.c.game_day,
    account_transactions.c.game_hour,
    postgresql_include=["created_at"],
)

# The shelf the planner chose at each game tick (migration 0016): every potion's price at that tick, and the rank of
# those chosen to show (NULL for the rest). The catalog's prices now are the latest tick's rows. Append-only.
shelf = Table(
    "shelf",
    metadata,
    Column("id", Id, primary_key=True),
    Column("tick_id", Id, ForeignKey("game_clock.id"), nullable=False),
    Column("sku", String(20), ForeignKey("potions.sku"), nullable=False),
    Column("price", Integer, nullable=False),
    Column("rank", SmallInteger),
    Column("created_at", DateTime, nullable=False, default=utcnow),
    CheckConstraint("price BETWEEN 1 AND 500", name="ck_shelf_price"),
    UniqueConstraint("tick_id", "sku", name="uq_shelf_tick_sku"),
    Index("ix_shelf_sku_id", "sku", "id"),
)

# What each visit was shown (migration 0016): the catalog as it stood when the visit was recorded. Append-only.
visit_catalogs = Table(
    "visit_catalogs",
    metadata,
    Column("id", Id, primary_key=True),
    Column("visit_pk", Id, ForeignKey("visits.id"), nullable=False),
    Column("sku", String(20), nullable=False),
    Column("price", Integer, nullable=False),
    Column("quantity", Integer, nullable=False),
    Index("ix_visit_catalogs_visit_pk", "visit_pk"),
)

# Secrets the shop keeps (migration 0017): per purpose, every generation it ever had; the newest is the secret.
# Append-only: rotating appends a generation, nothing is changed or deleted.
secrets = Table(
    "secrets",
    metadata,
    Column("id", Id, primary_key=True),
    Column("purpose", String(32), nullable=False),
    Column("generation", Integer, nullable=False),
    Column("value", String(128), nullable=False),
    Column("created_at", DateTime, nullable=False, default=utcnow),
    CheckConstraint("generation >= 1", name="ck_secrets_generation"),
    UniqueConstraint("purpose", "generation", name="uq_secrets_purpose_generation"),
)
