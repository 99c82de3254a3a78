"""`SharedReplies`: stored replies shared by processes forked after the table was made (gunicorn's workers)."""

from __future__ import annotations

import fcntl
import os
import signal
import struct
import time

import pytest

from adapters.processed_requests import KnownReplies, SharedReplies
from service_layer.idempotency import ProcessedRequest, Reply, RequestKey, Scope

CHECKOUT = ProcessedRequest(RequestKey(Scope.CHECKOUT, "k1"), "f" * 64, Reply(200, b'{"total_gold_paid":50}', "x/y"))
DELIVERY = ProcessedRequest(RequestKey(Scope.BARRELS, "k2"), "e" * 64, Reply(204))


def in_child(work: object) -> int:
    """Run `work()` in a forked child; its exit status (0: it ran and returned)."""
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            work()  # type: ignore[operator]
            status = 0
        finally:
            os._exit(status)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def test_a_reply_one_process_adds_is_read_by_another_byte_for_byte():
    shared = SharedReplies()
    assert in_child(lambda: (shared.add(CHECKOUT), shared.add(DELIVERY))) == 0
    assert shared.get(CHECKOUT.key) == CHECKOUT
    assert shared.get(DELIVERY.key) == DELIVERY  # no body, no content type: as stored
    assert shared.get(RequestKey(Scope.CHECKOUT, "k2")) is None  # the same value in another scope is another key


def test_a_slot_holds_one_key_and_a_later_reply_there_replaces_it():
    shared = SharedReplies(slots=1)
    shared.add(CHECKOUT)
    shared.add(DELIVERY)
    assert shared.get(CHECKOUT.key) is None  # replaced: a miss, never another key's reply
    assert shared.get(DELIVERY.key) == DELIVERY


def test_a_reply_too_big_for_a_slot_is_not_shared():
    shared = SharedReplies(slot_size=256)
    big = ProcessedRequest(RequestKey(Scope.CHECKOUT, "big"), "f" * 64, Reply(200, b"x" * 300, "x/y"))
    shared.add(big)
    assert shared.get(big.key) is None


def test_a_slot_being_written_or_torn_is_a_miss():
    shared = SharedReplies(slots=1)
    shared.add(CHECKOUT)
    memory = shared._memory
    (seq,) = struct.unpack_from("<Q", memory, 0)
    struct.pack_into("<Q", memory, 0, seq + 1)  # a writer is halfway
    assert shared.get(CHECKOUT.key) is None
    struct.pack_into("<Q", memory, 0, seq)
    assert shared.get(CHECKOUT.key) == CHECKOUT
    memory[SharedReplies.HEADER_SIZE + 30] ^= 0xFF  # a byte of the payload changed under the reader
    assert shared.get(CHECKOUT.key) is None


def test_a_writer_never_waits_for_another_and_a_killed_writer_frees_its_slot():
    shared = SharedReplies(slots=1)
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # another process, stopped for good halfway through writing the slot
        fcntl.lockf(shared._file, fcntl.LOCK_EX, shared.slot_size, 0)
        os.write(ready_w, b"!")
        time.sleep(60)
        os._exit(0)
    try:
        assert os.read(ready_r, 1) == b"!"
        started = time.monotonic()
        shared.add(CHECKOUT)
        assert time.monotonic() - started < 0.5  # not waited for
        assert shared.get(CHECKOUT.key) is None  # not shared
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    shared.add(CHECKOUT)  # the kernel released the dead writer's lock
    assert shared.get(CHECKOUT.key) == CHECKOUT


def test_a_slot_whose_writer_died_halfway_is_written_whole_again_by_the_next():
    shared = SharedReplies(slots=1)
    shared.add(DELIVERY)

    def die_halfway() -> None:  # the sequence number made odd, the payload half written, then killed
        (seq,) = SharedReplies.SEQ.unpack_from(shared._memory, 0)
        SharedReplies.SEQ.pack_into(shared._memory, 0, seq + 1)
        shared._memory[SharedReplies.HEADER_SIZE : SharedReplies.HEADER_SIZE + 8] = b"\xff" * 8
        os.kill(os.getpid(), signal.SIGKILL)

    assert in_child(die_halfway) == -signal.SIGKILL
    assert shared.get(DELIVERY.key) is None  # left odd: being written, for all a reader knows
    shared.add(CHECKOUT)
    assert shared.get(CHECKOUT.key) == CHECKOUT  # even again, and whole
    shared.add(DELIVERY)
    assert shared.get(DELIVERY.key) == DELIVERY


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "alone"])
def test_known_replies_find_what_a_sibling_committed_only_when_shared(shared):
    table = SharedReplies()
    mine = KnownReplies(shared=table if shared else None)
    assert in_child(lambda: KnownReplies(shared=table).add(CHECKOUT)) == 0
    assert mine.get(CHECKOUT.key) == (CHECKOUT if shared else None)
