"""On PostgreSQL, a worker's writing units of work take turns (`WriteSlots`); reads never wait for one. A write
that finds no turn within the deadline is refused as `ShopBusy` (HTTP 503 with Retry-After) with nothing kept, and
its retry with the same key applies once."""

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from adapters import orm
from adapters.postgres import WriteSlots
from cauldrons.app import create_app
from cauldrons.bootstrap import SqlUowFactory, Wiring, bootstrap
from cauldrons.config import Config
from domain import ledger
from service_layer import services, views
from service_layer.unit_of_work import ShopBusy
from tests.helpers import API_KEY, SMALL_RED, barrel_json


@pytest.fixture
def pg(pg_url: str) -> Iterator[Wiring]:
    wired = bootstrap(Config(pg_url, API_KEY))
    factory = wired.uow_factory
    assert isinstance(factory, SqlUowFactory)
    factory.write_slots = WriteSlots(1, deadline=0.05)  # one turn: the test holds it, as another writer would
    yield wired
    wired.engine.dispose()


def slots(wiring: Wiring) -> WriteSlots:
    factory = wiring.uow_factory
    assert isinstance(factory, SqlUowFactory) and factory.write_slots is not None
    return factory.write_slots


def stored_replies(wiring: Wiring) -> int:
    with wiring.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(orm.processed_requests)).scalar_one())


def gold(wiring: Wiring) -> int:
    return views.audit(None, wiring.uow_factory())["gold"]


def test_a_write_with_no_turn_is_refused_with_nothing_kept_and_its_retry_applies_once(pg):
    kept, before = stored_replies(pg), gold(pg)
    with slots(pg), pytest.raises(ShopBusy):
        services.deliver_barrels("o-1", [SMALL_RED], pg.uow_factory())
    assert (stored_replies(pg), gold(pg)) == (kept, before)
    first = services.deliver_barrels("o-1", [SMALL_RED], pg.uow_factory())
    again = services.deliver_barrels("o-1", [SMALL_RED], pg.uow_factory())
    assert (first.status, again.status, again.replayed) == (204, 204, True)
    assert gold(pg) == before - SMALL_RED.price


def test_reads_take_no_turn(pg):
    with slots(pg):  # every turn taken
        assert views.audit(None, pg.uow_factory())["gold"] == 100
        assert views.catalog(pg.uow_factory()) == []
        with pg.uow_factory() as uow:
            assert uow.ledger.balances(ledger.SHOP)


def test_a_barrel_plan_records_the_offers_so_it_takes_a_turn(pg):
    with slots(pg), pytest.raises(ShopBusy):
        services.plan_barrels([SMALL_RED], pg.uow_factory())
    assert services.plan_barrels([SMALL_RED], pg.uow_factory()) is not None


def test_over_http_a_write_with_no_turn_is_a_503_with_retry_after(pg):
    http = create_app(Config(pg.engine.url.render_as_string(False), API_KEY), uow_factory=pg.uow_factory).test_client()

    def deliver():  # type: ignore[no-untyped-def]
        return http.post("/barrels/deliver/o-2", json=[barrel_json(SMALL_RED)], headers={"access_token": API_KEY})

    with slots(pg):
        busy, catalog = deliver(), http.get("/catalog/")
    assert (busy.status_code, busy.json["error"], busy.headers["Retry-After"]) == (503, "shop_busy", "1")
    assert catalog.status_code == 200
    assert (deliver().status_code, deliver().status_code) == (204, 204)
    assert gold(pg) == 100 - SMALL_RED.price
