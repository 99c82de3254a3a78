"""The shop's real server, as a hostile client meets it: `cauldrons serve` (gunicorn's gevent workers) on SQLite (one
worker) and on PostgreSQL (two), spoken to over raw sockets. Slow clients do not stall honest ones, bodies are read
whole within the limit, malformed requests are refused before the app (by gunicorn, with its own HTML page) and
broken bodies by the app in JSON, chunk extensions are read past, and the auth header is read one way."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import pytest

from cauldrons.exchange.transport import HttpTransport
from cauldrons.testing import fresh_pg_database, shop_process
from tests.helpers import API_KEY

READ_TIMEOUT = 1.0  # the servers' --read-timeout here, so dropped connections are seen quickly
LIMIT = 1024 * 1024
FREE_RED = b'[{"sku": "FREE_RED_BARREL", "ml_per_barrel": 100, "potion_type": [1, 0, 0, 0], "price": 0, "quantity": 1}]'


@dataclass(frozen=True)
class Shop:
    name: str
    port: int


@pytest.fixture(scope="module", params=["gunicorn, SQLite", "gunicorn, PostgreSQL"])
def shop(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    with ExitStack() as stack:
        if request.param.endswith("SQLite"):
            url, workers = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'shop.db'}", []
        else:
            url = stack.enter_context(fresh_pg_database(request.getfixturevalue("pg_template")))
            workers = ["--workers", "2"]
        server = stack.enter_context(shop_process(url, API_KEY, "--read-timeout", str(READ_TIMEOUT), *workers))
        yield Shop(request.param, int(server.url.rsplit(":", 1)[1]))


@dataclass(frozen=True)
class Raw:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


def connect(shop: Shop) -> socket.socket:
    return socket.create_connection(("127.0.0.1", shop.port), timeout=30)


def read_answer(sock: socket.socket) -> Raw:
    data = b""
    while b"\r\n\r\n" not in data:
        part = sock.recv(65536)
        if not part:
            raise ConnectionError(f"closed before an answer: {data!r}")
        data += part
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers.get("content-length", 0)):
        part = sock.recv(65536)
        if not part:
            break
        body += part
    return Raw(int(lines[0].split()[1]), headers, body)


def send(shop: Shop, data: bytes) -> Raw:
    with connect(shop) as sock:
        sock.sendall(data)
        return read_answer(sock)


def request(method: str, path: str, *headers: str, body: bytes = b"", length: bool = True) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: shop", *headers]
    if body and length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(*chunks: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"


def audit(shop: Shop) -> dict[str, int]:
    answer = send(shop, request("GET", "/inventory/audit", f"access_token: {API_KEY}"))
    assert answer.status == 200, answer
    return answer.json()  # type: ignore[return-value]


def assert_json_error(answer: Raw, status: int) -> None:
    assert answer.status == status, answer
    assert answer.headers["content-type"] == "application/json", answer
    body = answer.json()
    assert isinstance(body, dict) and body["error"] and body["message"], body


KEY = f"access_token: {API_KEY}"
REFUSED_BEFORE_THE_APP = {  # gunicorn answers these itself: the status, its own HTML page, and the connection closed
    "a 10 kB order_id": (request("POST", "/barrels/deliver/" + "7" * 10_000, KEY, body=b"[]"), 414),
    "a header over 8 kB": (request("GET", "/catalog/", "X-Padding: " + "p" * 9000), 431),
    "a control character in a header": (request("GET", "/catalog/", "X-Odd: a\x01b"), 400),
    "Transfer-Encoding with Content-Length": (
        request(
            "POST", "/barrels/plan", KEY, "Transfer-Encoding: chunked", "Content-Length: 2", body=b"[]", length=False
        ),
        400,
    ),
    "a method that is not a token": (request("G@T", "/catalog/"), 400),
    "an HTTP version the servers do not speak": (b"GET /catalog/ HTTP/9.9\r\nHost: shop\r\n\r\n", 400),
    "a space before a header's colon": (request("GET", "/catalog/", "X-Odd : yes"), 400),
    "two different Content-Lengths": (
        request("POST", "/barrels/plan", KEY, "Content-Length: 2", "Content-Length: 3", body=b"[]", length=False),
        400,
    ),
    "a Content-Length that is not a length": (
        request("POST", "/barrels/plan", KEY, "Content-Length: \xb2", body=b"[]", length=False),
        400,
    ),
    "a request line ending in a bare LF": (b"GET /catalog/ HTTP/1.1\nHost: shop\r\n\r\n", 400),
    "a header line ending in a bare LF": (b"GET /catalog/ HTTP/1.1\r\nHost: shop\nX-Odd: yes\r\n\r\n", 400),
    "a request target that is not ASCII": (b"GET /catalog/\xff HTTP/1.1\r\nHost: shop\r\n\r\n", 400),
}
REFUSED_BY_THE_APP = {  # the body's framing, found broken while the app reads it: a JSON error
    "a malformed chunk size": (
        request(
            "POST", "/barrels/plan", KEY, "Transfer-Encoding: chunked", body=b"zz\r\n[]\r\n0\r\n\r\n", length=False
        ),
        400,
    ),
    "a chunk size written as a Python literal": (
        request(
            "POST", "/barrels/plan", KEY, "Transfer-Encoding: chunked", body=b"0x2\r\n[]\r\n0\r\n\r\n", length=False
        ),
        400,
    ),
}


@pytest.mark.parametrize("case", REFUSED_BEFORE_THE_APP)
def test_malformed_requests_are_refused_before_the_app(shop, case):
    data, status = REFUSED_BEFORE_THE_APP[case]
    answer = send(shop, data)
    assert answer.status == status and answer.headers["connection"] == "close", answer


@pytest.mark.parametrize("case", REFUSED_BY_THE_APP)
def test_broken_chunk_framing_is_refused_in_json(shop, case):
    data, status = REFUSED_BY_THE_APP[case]
    assert_json_error(send(shop, data), status)


def test_chunk_extensions_are_read_past(shop):
    body = b"%x;name=value\r\n%s\r\n0;last\r\n\r\n" % (len(FREE_RED), FREE_RED)
    answer = send(shop, request("POST", "/barrels/plan", KEY, "Transfer-Encoding: chunked", body=body, length=False))
    assert answer.status == 200 and isinstance(answer.json(), list), answer


def test_a_chunked_body_over_the_limit_is_refused_not_cut_and_booked(shop):
    before = audit(shop)
    padded = FREE_RED + b" " * LIMIT + b"garbage"  # valid JSON up to the limit, then more
    answer = send(
        shop,
        request(
            "POST",
            "/barrels/deliver/chunked-over",
            KEY,
            "Transfer-Encoding: chunked",
            body=chunked(*(padded[i : i + 65536] for i in range(0, len(padded), 65536))),
            length=False,
        ),
    )
    assert_json_error(answer, 413)
    assert audit(shop) == before


def test_a_chunked_body_within_the_limit_is_booked(shop):
    before = audit(shop)
    answer = send(
        shop,
        request(
            "POST",
            "/barrels/deliver/chunked-within",
            KEY,
            "Transfer-Encoding: chunked",
            body=chunked(FREE_RED[:40], FREE_RED[40:]),
            length=False,
        ),
    )
    assert answer.status == 204, answer
    assert audit(shop)["ml_in_barrels"] == before["ml_in_barrels"] + 100


def test_a_body_trickled_past_the_deadline_is_dropped(shop):
    with connect(shop) as sock:
        sock.sendall(request("POST", "/barrels/plan", KEY, "Content-Length: 1000", body=b"[", length=False))
        started = time.monotonic()
        try:
            while time.monotonic() - started < 4 * READ_TIMEOUT + 3:  # one byte well within each read's timeout
                time.sleep(READ_TIMEOUT / 2)
                sock.sendall(b" ")
        except OSError:
            pass  # the shop stopped reading and closed
        answer = read_answer(sock)
    assert answer.status == 408 and time.monotonic() - started < 4 * READ_TIMEOUT + 3, answer


def test_a_scripted_script_name_header_moves_nothing(shop):
    answer = send(shop, request("GET", "/catalog/", "SCRIPT_NAME: /zzz"))
    assert answer.status == 200 and answer.headers["content-type"] == "application/json"
    assert send(shop, request("GET", "/x/inventory/audit", KEY, "SCRIPT_NAME: /x")).status == 404


@pytest.mark.parametrize("length", [True, False], ids=["with a Content-Length", "without"])
def test_a_chunked_request_with_a_plain_body_is_answered_not_left_hanging(shop, length):
    with connect(shop) as sock:
        sock.sendall(request("POST", "/barrels/plan", KEY, "Transfer-Encoding: chunked", body=b"[]", length=length))
        started = time.monotonic()
        answer = read_answer(sock)
    assert answer.status in (400, 408) and time.monotonic() - started < READ_TIMEOUT + 3, answer
    if not length:  # with one, gunicorn refuses it before the app (its own HTML page); without, the app reads it
        assert_json_error(answer, answer.status)


def test_many_slow_clients_do_not_stall_honest_ones_and_are_dropped(shop):
    slow = []
    try:
        for i in range(150):  # half never finish their headers, half send less body than they announced
            sock = connect(shop)
            if i % 2:
                sock.sendall(b"POST /barrels/plan HTTP/1.1\r\nHost: shop\r\naccess_to")
            else:
                sock.sendall(request("POST", "/barrels/plan", KEY, "Content-Length: 100", body=b"[", length=False))
            slow.append(sock)
        latencies = []
        for _ in range(30):
            started = time.monotonic()
            answer = send(shop, request("GET", "/catalog/"))
            latencies.append(time.monotonic() - started)
            assert answer.status == 200
        assert max(latencies) < 1.0, f"honest requests took up to {max(latencies):.2f} s"
        time.sleep(READ_TIMEOUT + 1)
        for sock in slow:  # each was dropped (or answered 408 and then dropped)
            sock.settimeout(3)
            received = sock.recv(65536)
            assert received == b"" or received.startswith(b"HTTP/1.1 408"), received[:100]
    finally:
        for sock in slow:
            sock.close()


@pytest.mark.parametrize(
    "headers, status",
    [
        ([f"access_token:   {API_KEY}  "], 200),
        ([f"Access-Token: {API_KEY}"], 200),
        ([f"access_token: {API_KEY}", f"access_token: {API_KEY}"], 401),
        ([f"access_token: {API_KEY}", f"Access-Token: {API_KEY}"], 401),
        (["access_token: "], 401),
    ],
)
def test_the_auth_header_is_read_one_way(shop, headers, status):
    assert send(shop, request("GET", "/inventory/audit", *headers)).status == status


def test_the_server_is_the_one_under_test(shop):
    answer = send(shop, request("GET", "/"))
    assert answer.headers["server"].lower().startswith("gunicorn")


def test_the_simulators_client_asks_again_when_the_shop_closed_its_idle_connection(shop):
    client = HttpTransport(f"http://127.0.0.1:{shop.port}", API_KEY)
    assert client.get("/inventory/audit").status == 200
    time.sleep(READ_TIMEOUT + 1.5)  # past the keep-alive timeout: the shop has closed the connection
    assert client.get("/inventory/audit").status == 200
