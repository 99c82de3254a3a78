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
    """A twin of the request (the same key) committed first: `earlier` is its stored reply, which stands."""

    def __init__(self, earlier: ProcessedRequest) -> None:
        super().__init__(f"{earlier.key.route} {earlier.key.value!r} was processed by another request first")
        self.earlier = earlier


class AbstractProcessedRequests(abc.ABC):
    @abc.abstractmethod
    def get(self, key: RequestKey) -> ProcessedRequest | None:
        """The stored reply of `key`, if one was committed. A repository makes racing twins either wait for each
        other here (so the later one finds the earlier's reply) or settle at the commit (`add`)."""

    @abc.abstractmethod
    def add(self, key: RequestKey, fingerprint: str, reply: Reply, moved: bool) -> None:
        """Store the reply with this unit of work's effects, and whether the request appended a ledger transaction
        (`ledger verify` holds the books to it). A key a twin committed first is refused by the commit, as
        RequestAlreadyProcessed."""
