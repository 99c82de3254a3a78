"""The same random postings through the in-memory fakes and through each real database: same answers (replies, or
refusals with their messages), same balances now. The route and unit layers run their writes on the fakes; this is
what lets them. The read side (metrics, order search, history, balances at a past moment) is not compared here: it
is tested on the databases themselves."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cauldrons.bootstrap import bootstrap
from cauldrons.config import Config
from cauldrons.testing import fresh_pg_database
from domain.errors import ShopError
from domain.ledger import SHOP
from domain.potions import DEFAULT_POTIONS, Barrel
from service_layer import services, views
from service_layer.unit_of_work import AbstractUnitOfWork
from tests.fakes import FakeStore, FakeUnitOfWork
from tests.helpers import ALICE, API_KEY

colours = st.sampled_from([(1.0, 0.0, 0.0, 0.0), (0.0, 1.0, 0.0, 0.0), (0.0, 0.0, 1.0, 0.0), (0.5, 0.0, 0.5, 0.0)])
barrels = st.builds(
    Barrel,
    sku=st.sampled_from(["A", "B"]),
    ml_per_barrel=st.sampled_from([100, 500, 2500]),
    potion_type=colours,
    price=st.integers(0, 120),
    quantity=st.integers(0, 3),
).map(lambda b: [b])
recipes = st.sampled_from([p.potion_type for p in DEFAULT_POTIONS])
skus = st.sampled_from([p.sku for p in DEFAULT_POTIONS])
operations = st.lists(
    st.one_of(
        st.tuples(st.just("barrels"), barrels),
        st.tuples(st.just("bottles"), st.lists(st.tuples(recipes, st.integers(1, 20)), max_size=2)),
        st.tuples(st.just("capacity"), st.tuples(st.integers(0, 1), st.integers(0, 1))),
        st.tuples(st.just("sale"), st.lists(st.tuples(skus, st.integers(1, 4)), max_size=2, unique_by=lambda x: x[0])),
        st.tuples(st.just("correct"), st.tuples(st.sampled_from(["shop/gold", "shop/ml:red"]), st.integers(-300, 300))),
        st.tuples(st.just("reset"), st.none()),
    ),
    min_size=1,
    max_size=12,
)


def play(ops: list[tuple[str, Any]], new_uow: Callable[[], AbstractUnitOfWork]) -> list[object]:
    """Each operation's answer: (status, body) or the refusal (its class and message)."""
    answers: list[object] = []
    for n, (kind, arg) in enumerate(ops):
        try:
            if kind == "barrels":
                reply = services.deliver_barrels(f"o{n}", arg, new_uow())
            elif kind == "bottles":
                reply = services.deliver_bottles(f"o{n}", arg, new_uow())
            elif kind == "capacity":
                reply = services.deliver_capacity(f"o{n}", *arg, new_uow())
            elif kind == "sale":
                cart_id = json.loads(services.create_cart(ALICE, None, new_uow()).body)["cart_id"]
                for sku, quantity in arg:
                    services.set_item_quantity(cart_id, sku, quantity, None, new_uow())
                reply = services.checkout(cart_id, "gold", new_uow())
            elif kind == "correct":
                if arg[1] == 0:
                    continue
                reply = services.correct(arg[0], arg[1], "test", f"k{n}", new_uow())
            else:
                reply = services.reset(None, new_uow())
            body = json.loads(reply.body) if reply.body else None
            if isinstance(body, dict):
                body.pop("transaction_id", None)  # numbered by each store in its own way
            answers.append((reply.status, body))
        except ShopError as err:
            answers.append((type(err).__name__, str(err)))
    return answers


@contextmanager
def real_shop(backend: str, request: pytest.FixtureRequest, folder: Path) -> Iterator[Callable[[], Any]]:
    if backend == "sqlite":
        path = folder / f"shop-{len(list(folder.iterdir()))}.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
        wiring = bootstrap(Config(url, API_KEY))
        yield wiring.uow_factory
        wiring.engine.dispose()
    else:
        with fresh_pg_database(request.getfixturevalue("pg_template")) as url:
            wiring = bootstrap(Config(url, API_KEY))
            yield wiring.uow_factory
            wiring.engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_the_fakes_answer_and_balance_as_the_database_does(backend, request, tmp_path, ops):
    store = FakeStore()
    services.open_shop(FakeUnitOfWork(store))
    fake_answers = play(ops, lambda: FakeUnitOfWork(store))
    with real_shop(backend, request, tmp_path) as new_uow:
        real_answers = play(ops, new_uow)
        real_balances = views.accounts(None, new_uow())["accounts"]
    assert real_answers == fake_answers
    fake_balances = views.accounts(None, FakeUnitOfWork(store))["accounts"]
    shop = [(a["account"], a["balance"]) for a in real_balances if a["owner"] == SHOP and a["balance"]]
    assert shop == [(a["account"], a["balance"]) for a in fake_balances if a["owner"] == SHOP and a["balance"]]
