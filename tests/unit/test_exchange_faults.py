"""The simulator's faulty wire, against small fake shops: lost replies are retried with the same key and body (some
later), duplicates go out at once, the game sees each answer once, and a shop that is not idempotent is caught."""

import json
import random
import threading
from collections import Counter
from dataclasses import replace

from cauldrons.exchange.faults import FaultyClient
from cauldrons.exchange.transport import Answer, Request, Transport, TransportError


class FakeShop(Transport):
    """Processes each keyed POST once and replays its answer after, as the contract says (unless `forgetful`)."""

    def __init__(self, forgetful: bool = False) -> None:
        self.forgetful = forgetful
        self.effects: Counter[str] = Counter()
        self.received: list[Request] = []
        self.replies: dict[tuple[str, str | None], Answer] = {}
        self.lock = threading.Lock()

    def send(self, request: Request) -> Answer:
        with self.lock:
            self.received.append(request)
            if request.method == "GET":
                return Answer(200, b"[]")
            stored = self.replies.get((request.path, request.key))
            if request.keyed and stored is not None and not self.forgetful:
                return replace(stored, replayed=True)
            self.effects[request.path] += 1
            answer = Answer(200, json.dumps({"done": self.effects[request.path]}).encode())
            if request.keyed:
                self.replies[(request.path, request.key)] = answer
            return answer


class Refusing(Transport):
    """Refuses everything with a 409 whose message changes every time it is asked (as a stock count would)."""

    def __init__(self) -> None:
        self.asked = 0

    def send(self, request: Request) -> Answer:
        self.asked += 1
        return Answer(409, json.dumps({"error": "insufficient_stock", "message": f"asked {self.asked}"}).encode())


class Flaky(FakeShop):
    """Drops the connection on every other request."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def send(self, request: Request) -> Answer:
        self.calls += 1
        if self.calls % 2:
            raise TransportError("connection reset")
        return super().send(request)


def play(client: FaultyClient, posts: int = 60) -> list[list[Answer]]:
    """Send `posts` keyed POSTs (with a GET between), each with a callback collecting its answers."""
    answers: list[list[Answer]] = [[] for _ in range(posts)]
    for n in range(posts):
        client.send(f"/orders/{n}", {"n": n}, answers[n].append)
        client.get("/catalog/")
    return answers


def test_without_faults_each_post_is_sent_once_and_answered_at_once():
    shop = FakeShop()
    client = FaultyClient(shop, 0.0)
    answers = play(client, 20)
    assert [len(a) for a in answers] == [1] * 20
    assert client.traffic.sent == 40 and client.traffic.retried == client.traffic.replayed == 0
    assert client.violations == []


def test_with_every_post_faulted_each_is_processed_once_and_the_game_sees_one_answer():
    shop = FakeShop()
    client = FaultyClient(shop, 1.0, random.Random(1))
    answers = play(client)
    client.settle()
    assert [len(a) for a in answers] == [1] * 60
    assert all(a[0].ok for a in answers)
    assert set(shop.effects.values()) == {1}
    traffic = client.traffic
    assert traffic.lost > 0 and traffic.retried >= traffic.lost and traffic.delayed > 0 and traffic.duplicated > 0
    assert traffic.replayed == traffic.retried + traffic.duplicated
    assert client.violations == []


def test_a_retry_sends_the_same_key_and_body():
    shop = FakeShop()
    client = FaultyClient(shop, 1.0, random.Random(2))
    for n in range(30):
        client.send("/carts/", {"customer": n}, lambda a: None, key=f"cart-{n}")
    client.settle()
    sent: dict[str | None, set[bytes | None]] = {}
    for request in shop.received:
        sent.setdefault(request.key, set()).add(request.body)
    assert len(sent) == 30 and all(len(bodies) == 1 for bodies in sent.values())
    assert len(shop.received) > 30


def test_delayed_retries_are_answered_after_later_requests_and_at_the_latest_when_settled():
    client = FaultyClient(FakeShop(), 1.0, random.Random(3))
    answers = play(client)
    answered_late = sum(not a for a in answers)
    assert answered_late > 0
    client.settle()
    assert all(len(a) == 1 for a in answers)


def test_call_never_delays_its_answer():
    client = FaultyClient(FakeShop(), 1.0, random.Random(4))
    assert all(client.call(f"/carts/{n}", {}, key=f"k{n}").ok for n in range(40))
    assert client.traffic.delayed == 0


def test_a_shop_that_does_not_replay_is_caught():
    client = FaultyClient(FakeShop(forgetful=True), 1.0, random.Random(5))
    play(client)
    client.settle()
    assert any("its retry got" in v for v in client.violations)
    assert any("processed twice" in v or "got" in v for v in client.violations)


def test_refusals_retried_later_may_change_but_refusals_retried_at_once_may_not():
    client = FaultyClient(Refusing(), 1.0, random.Random(6))
    answers = play(client, 30)
    client.settle()
    assert all(a[0].status == 409 for a in answers)
    assert client.traffic.delayed > 0
    assert client.violations, "the message changed between a refusal and its immediate retry or its twin"
    assert all("at once" in v for v in client.violations)
    assert client.traffic.errors_by_status == {409: client.traffic.sent}


def test_a_dropped_connection_is_retried_with_the_same_request():
    shop = Flaky()
    client = FaultyClient(shop, 0.0)
    answer = client.call("/barrels/deliver/1", [], keyed=True)
    assert answer.ok and client.traffic.connection_errors == 1 and shop.effects["/barrels/deliver/1"] == 1
    assert "no answer" in client.recent()[0]
