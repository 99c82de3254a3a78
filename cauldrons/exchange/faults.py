"""The wire between the exchange and the shop, with the faults of a real network (`--faults RATE`).

A fraction RATE of POSTs meets one fault:
- a lost reply: the shop processed the request but its answer is thrown away; the request is retried with the same
  key and body (and that reply may be lost again). Most retries follow at once; when the game can wait for the
  answer (`send`), some are delayed until after 1-3 later requests, or until `settle()`;
- a duplicate: two copies are sent at the same moment from two threads.
The wire checks the shop's side of idempotency as it goes: a retry of a request whose lost reply was a 2xx must get
that reply again, byte for byte, marked `Idempotent-Replayed: true`; twins must get the same answer, and a keyed 2xx
must be processed by only one of them. Every breach is kept in `violations`.

The game sees one answer per request, the first it actually received, and only then (its callback runs once).
"""

from __future__ import annotations

import enum
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from cauldrons.exchange.transport import Answer, Request, Transport, TransportError

MAX_LOSSES = 3  # replies of one request lost in a row at most
MAX_DELAY = 3  # a delayed retry is sent after 1..MAX_DELAY later requests
CONNECTION_ATTEMPTS = 5  # tries to get any answer through a failing connection
Callback = Callable[[Answer], None]


class Fault(enum.Enum):
    NONE = "none"
    LOST = "lost reply, retried at once"
    LOST_DELAYED = "lost reply, retried later"
    DUPLICATE = "sent twice at once"


@dataclass
class Traffic:
    """What went over the wire."""

    sent: int = 0  # requests, retries and twins included
    posts: int = 0  # POSTs the game made (each counted once)
    retried: int = 0  # requests sent again with the same key and body
    replayed: int = 0  # answers marked Idempotent-Replayed
    lost: int = 0  # replies thrown away
    delayed: int = 0  # retries sent after later requests
    duplicated: int = 0  # requests sent twice at once
    connection_errors: int = 0
    by_status: Counter[int] = field(default_factory=Counter)

    @property
    def errors_by_status(self) -> dict[int, int]:
        return {status: n for status, n in sorted(self.by_status.items()) if status >= 400}

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.by_status.items() if status >= 500)


@dataclass
class _Delayed:
    request: Request
    lost: list[Answer]
    then: Callback
    wait: int


class FaultyClient:
    """Speaks to the shop through a transport, injecting faults into a fraction `rate` of POSTs.

    `get` and `call` return the answer; `send` hands it to a callback, perhaps later (a delayed retry), and at the
    latest in `settle()`. Callbacks only record; they never send requests.
    """

    def __init__(
        self, transport: Transport, rate: float = 0.0, rng: random.Random | None = None, history: int = 60
    ) -> None:
        if not 0 <= rate <= 1:
            raise ValueError(f"a fault rate is between 0 and 1, not {rate}")
        self.transport = transport
        self.rate = rate
        self.rng = rng or random.Random(0)
        self.traffic = Traffic()
        self.violations: list[str] = []
        self._recent: deque[str] = deque(maxlen=history)
        self._delayed: list[_Delayed] = []
        self._lock = threading.Lock()
        self._twins = ThreadPoolExecutor(max_workers=2, thread_name_prefix="twin")

    def close(self) -> None:
        self._twins.shutdown()
        self.transport.close()

    def recent(self) -> tuple[str, ...]:
        """The POSTs sent since the last `mark()` (at most the last `history`), oldest first, with their answers:
        the requests that can have changed the shop since its books were last compared."""
        with self._lock:
            return tuple(self._recent)

    def mark(self) -> None:
        with self._lock:
            self._recent.clear()

    # --- what the game calls -----------------------------------------------------------------------------------------

    def get(self, path: str) -> Answer:
        return self._now(Request("GET", path))

    def call(self, path: str, body: Any = None, key: str | None = None, keyed: bool | None = None) -> Answer:
        """POST and return the answer (a lost reply is retried at once)."""
        return self._now(Request.post(path, body, key, keyed))

    def send(self, path: str, body: Any, then: Callback, key: str | None = None, keyed: bool = True) -> None:
        """POST; `then` gets the answer now or, after a delayed retry, later (at the latest in `settle`)."""
        self._send(Request.post(path, body, key, keyed), then, may_delay=True)

    def settle(self) -> None:
        """Send every delayed retry now, so every answer is in."""
        while self._delayed:
            self._retry_delayed(self._delayed.pop(0))

    # --- the faults --------------------------------------------------------------------------------------------------

    def _now(self, request: Request) -> Answer:
        answers: list[Answer] = []
        self._send(request, answers.append, may_delay=False)
        return answers[0]

    def _send(self, request: Request, then: Callback, may_delay: bool) -> None:
        due = self._count_down()
        fault = self._draw(may_delay) if request.method == "POST" else Fault.NONE
        if request.method == "POST":
            self.traffic.posts += 1
        answer: Answer | None
        if fault is Fault.DUPLICATE:
            answer = self._twice(request)
        elif fault is Fault.NONE:
            answer = self._exchange(request)
        else:
            lost = [self._exchange(request, lost=True)]
            if fault is Fault.LOST_DELAYED:
                self.traffic.delayed += 1
                self._delayed.append(_Delayed(request, lost, then, self.rng.randint(1, MAX_DELAY)))
                answer = None
            else:
                answer = self._retry(request, lost, at_once=True)
        for delayed in due:  # retries that were waiting for this later request
            self._retry_delayed(delayed)
        if answer is not None:
            then(answer)

    def _draw(self, may_delay: bool) -> Fault:
        if self.rng.random() >= self.rate:
            return Fault.NONE
        roll = self.rng.random()
        if roll < 0.3:
            return Fault.DUPLICATE
        return Fault.LOST_DELAYED if may_delay and roll < 0.65 else Fault.LOST

    def _count_down(self) -> list[_Delayed]:
        for delayed in self._delayed:
            delayed.wait -= 1
        due = [d for d in self._delayed if d.wait <= 0]
        self._delayed = [d for d in self._delayed if d.wait > 0]
        return due

    def _retry_delayed(self, delayed: _Delayed) -> None:
        delayed.then(self._retry(delayed.request, delayed.lost, at_once=False))

    def _retry(self, request: Request, lost: list[Answer], at_once: bool) -> Answer:
        """Send `request` again until a reply gets through; check it against the replies that were lost."""
        while True:
            self.traffic.retried += 1
            if len(lost) < MAX_LOSSES and self.rng.random() < self.rate:
                lost.append(self._exchange(request, lost=True))
                continue
            answer = self._exchange(request)
            break
        first = next((a for a in lost if a.ok), None)
        if first is not None:
            if not answer.same_as(first):
                self._violation(f"{request}: the lost reply was {first}, its retry got {answer}")
            elif request.keyed and not answer.replayed:
                self._violation(f"{request}: the retry of a processed request was not marked as a replay")
        elif at_once and not answer.same_as(lost[-1]):  # a refusal, retried before anything else changed
            self._violation(f"{request}: refused with {lost[-1]}, but its retry at once got {answer}")
        return answer

    def _twice(self, request: Request) -> Answer:
        self.traffic.duplicated += 1
        start = threading.Barrier(2)

        def twin() -> Answer:
            start.wait()
            return self._exchange(request)

        one, other = (f.result() for f in [self._twins.submit(twin) for _ in range(2)])
        if not one.same_as(other):
            self._violation(f"{request}: sent twice at once, got {one} and {other}")
        elif request.keyed and one.ok and not (one.replayed or other.replayed):
            self._violation(f"{request}: sent twice at once and processed twice")
        return other if one.replayed else one

    def _exchange(self, request: Request, lost: bool = False) -> Answer:
        """Send once and get an answer, reconnecting through connection errors (the same request again: safe, since
        it carries its key)."""
        for attempt in range(1, CONNECTION_ATTEMPTS + 1):
            with self._lock:
                self.traffic.sent += 1
            try:
                answer = self.transport.send(request)
                break
            except TransportError as err:
                with self._lock:
                    self.traffic.connection_errors += 1
                    if request.method == "POST":
                        self._recent.append(f"{request} -> no answer ({err})")
                if attempt == CONNECTION_ATTEMPTS:
                    raise
                time.sleep(0.05 * attempt)
        with self._lock:
            self.traffic.by_status[answer.status] += 1
            self.traffic.replayed += answer.replayed
            self.traffic.lost += lost
            if request.method == "POST":
                self._recent.append(f"{request} -> {answer}" + (" (reply lost)" if lost else ""))
        return answer

    def _violation(self, message: str) -> None:
        with self._lock:
            self.violations.append(message)
