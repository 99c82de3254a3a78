"""Request keys, stored replies, and the one canonical JSON encoder every response goes through.

A POST with a key is processed once: its reply is stored in `processed_requests` in the same database transaction
as its effects, and a retry with the same key and payload gets that reply back byte for byte.
"""

from __future__ import annotations

import abc
import dataclasses
import enum
import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

from domain.errors import IdempotencyKeyReused

JSON = "application/json"


def encode(obj: Any) -> bytes:
    """The shop's JSON: compact, ASCII (so any string, even one echoed from bad input, encodes), keys in the order
    given."""
    return json.dumps(obj, separators=(",", ":"), allow_nan=False).encode()


def _plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    raise TypeError(f"cannot fingerprint {type(obj).__name__}")


def fingerprint(payload: Any) -> str:
    """SHA-256 of the canonical JSON (sorted keys) of a validated payload (dataclasses become objects)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False, default=_plain)
    return hashlib.sha256(canonical.encode()).hexdigest()


class Scope(enum.StrEnum):
    """Where an idempotency key is unique: one scope per POST route (so /barrels/deliver/7 and /bottler/deliver/7
    are different requests). The values are what `processed_requests.route` stores: never change one."""

    OPENING = "system/open"  # the shop's first opening, once per database
    RESET = "admin/reset"
    CLOCK = "info/current_time"
    BARRELS = "barrels/deliver"
    BOTTLES = "bottler/deliver"
    CAPACITY = "inventory/deliver"
    VISITS = "carts/visits"
    CARTS = "carts"
    CART_ITEMS = "carts/items"
    CHECKOUT = "carts/checkout"
    CORRECTIONS = "ledger/corrections"

    @property
    def books(self) -> bool:
        """Whether a request in this scope appends one ledger transaction stamped with its key when it succeeds and
        moves something (and none when refused)."""
        return self in BOOKING


BOOKING = frozenset(
    {Scope.OPENING, Scope.RESET, Scope.BARRELS, Scope.BOTTLES, Scope.CAPACITY, Scope.CHECKOUT, Scope.CORRECTIONS}
)


@dataclass(frozen=True)
class RequestKey:
    """An idempotency key within its scope."""

    route: Scope
    value: str


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    content_type: str | None = None
    replayed: bool = False

    @classmethod
    def json(cls, obj: Any, status: int = 200) -> Reply:
        return cls(status, encode(obj), JSON)

    @classmethod
    def empty(cls, status: int = 204) -> Reply:
        return cls(status)


@dataclass(frozen=True)
class ProcessedRequest:
    key: RequestKey
    fingerprint: str
    reply: Reply

    def replay(self, fingerprint: str) -> Reply:
        if fingerprint != self.fingerprint:
            raise IdempotencyKeyReused(self.key.route, self.key.value)
        return replace(self.reply, replayed=True)


class RequestAlreadyProcessed(Exception):
    """Raised by `record` when another transaction stored a reply for the key first."""


class AbstractProcessedRequests(abc.ABC):
    # Whether `claim` may `guess` that a key is new without asking the database: this repository's commit refuses a
    # key another transaction took first (`record` or the commit raises RequestAlreadyProcessed).
    guesses: bool = False

    @abc.abstractmethod
    def claim(self, key: RequestKey, guess: bool = False) -> ProcessedRequest | None:
        """The earlier processing of `key`, if any, as committed. Where the repository does not guess, a concurrent
        claim of the same key waits until this transaction ends (SQLite: one writer at a time), so racing twins see
        each other's reply instead of both doing the work.

        With `guess` (and `guesses`), a key not known to be taken may be answered None from what this process
        already knows, with no lock and no wait for twins: the work is done on the guess that the key is new, and
        the commit settles it. A refusal of that work is no answer yet (it may be a twin's success, committed with
        the key's reply meanwhile): the service claims the key, and replays the reply if there is one."""

    @abc.abstractmethod
    def record(self, key: RequestKey, fingerprint: str, reply: Reply, moved: bool) -> None:
        """Store the reply in this transaction, and whether the request appended a ledger transaction (`ledger
        verify` holds the books to it). If the key is taken, RequestAlreadyProcessed is raised here or, where the
        reply is written with the commit, by the unit of work's commit."""
