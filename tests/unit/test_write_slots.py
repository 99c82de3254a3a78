"""A worker's write slots: at most `size` writers at once; the others get their turn first come, first served, each
handed it by the writer that ends, or are refused once the deadline passes, losing no slot."""

import threading
import time

import pytest

from adapters.postgres import WriteSlots
from service_layer.unit_of_work import ShopBusy


def wait_until(condition, seconds: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


class Holder:
    """A thread that takes a slot and keeps it until `release()`."""

    def __init__(self, slots: WriteSlots, wait: bool = True) -> None:
        self.inside, self.done = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold, args=(slots,))
        self.thread.start()
        if wait:
            assert self.inside.wait(5)

    def _hold(self, slots: WriteSlots) -> None:
        with slots:
            self.inside.set()
            self.done.wait(5)

    def release(self) -> None:
        self.done.set()
        self.thread.join()


def test_no_more_than_size_write_at_once():
    slots = WriteSlots(2, deadline=5)
    at_once, most = [0], [0]
    lock = threading.Lock()

    def writer() -> None:
        with slots:
            with lock:
                at_once[0] += 1
                most[0] = max(most[0], at_once[0])
            time.sleep(0.002)
            with lock:
                at_once[0] -= 1

    writers = [threading.Thread(target=writer) for _ in range(10)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    assert most[0] <= 2
    assert slots.waiting == 0


def test_the_waiters_get_their_turns_in_the_order_they_came():
    slots = WriteSlots(1, deadline=5)
    holder = Holder(slots)
    entered: list[int] = []

    def writer(n: int) -> None:
        with slots:
            entered.append(n)

    waiters = []
    for n in range(6):
        waiters.append(threading.Thread(target=writer, args=(n,)))
        waiters[-1].start()
        wait_until(lambda n=n: slots.waiting == n + 1)  # queued before the next one comes
    holder.release()
    for waiter in waiters:
        waiter.join()
    assert entered == [0, 1, 2, 3, 4, 5]
    assert slots.waiting == 0


def test_a_turn_handed_to_a_waiter_cannot_be_taken_by_a_newcomer():
    slots = WriteSlots(1, deadline=5)
    holder = Holder(slots)
    waiter = Holder(slots, wait=False)
    wait_until(lambda: slots.waiting == 1)
    holder.release()  # the turn goes to the waiter, not back to the pool
    slots.deadline = 0.05
    with pytest.raises(ShopBusy), slots:  # a newcomer, as the turn is handed over
        pass
    assert waiter.inside.wait(5)
    waiter.release()


def test_a_writer_that_waits_past_the_deadline_is_refused_and_no_slot_is_lost():
    slots = WriteSlots(1, deadline=0.05)
    holder = Holder(slots)
    started = time.monotonic()
    with pytest.raises(ShopBusy, match="0.05 s"), slots:
        pass
    assert time.monotonic() - started >= 0.05
    assert slots.waiting == 0
    holder.release()
    with slots:  # the slot came back to the pool: taken at once
        assert slots.waiting == 0


class Interrupted(Exception):
    pass


@pytest.mark.parametrize("handed_over_first", [False, True])
def test_a_waiter_interrupted_while_waiting_loses_no_slot(monkeypatch, handed_over_first):
    slots = WriteSlots(1, deadline=5)
    holder = Holder(slots)

    class Interrupting(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            if handed_over_first:
                holder.release()  # the turn is handed to this waiter just as it is interrupted
                assert self.is_set()
            raise Interrupted

    monkeypatch.setattr(threading, "Event", Interrupting)
    with pytest.raises(Interrupted), slots:
        pass
    monkeypatch.undo()
    assert slots.waiting == 0
    if not handed_over_first:
        holder.release()
    slots.deadline = 0.05
    with slots:  # the one slot is free again
        pass
