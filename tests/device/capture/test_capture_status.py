"""The status hub: every viewer gets statuses in the order they were made."""

from __future__ import annotations

import random
import threading
import time

from device.capture.status import StatusHub


def test_statuses_published_from_many_threads_arrive_in_the_order_they_were_made() -> None:
    made = 0
    lock = threading.Lock()
    rng = random.Random(3)

    def make() -> dict:
        nonlocal made
        with lock:
            made += 1
            n = made
            pause = rng.random() * 0.002
        time.sleep(pause)  # a status takes a moment to build: a later one could overtake it
        return {"n": n}

    hub = StatusHub(make)
    sub = hub.subscribe(maxsize=1000)
    first = sub.get(timeout=1)
    assert first == {"n": 1}

    def publisher() -> None:
        for _ in range(25):
            hub.publish(force=True)

    threads = [threading.Thread(target=publisher) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = [sub.get_nowait()["n"] for _ in range(sub.pending())]
    assert len(got) == 150 and got == sorted(got), got


def test_an_optional_update_during_a_publish_is_skipped_and_a_forced_one_waits() -> None:
    entered, release = threading.Event(), threading.Event()
    calls = []

    def make() -> dict:
        calls.append(1)
        if len(calls) == 2:  # the second build (the first is the subscribe's) is held
            entered.set()
            release.wait(5)
        return {"n": len(calls)}

    hub = StatusHub(make, rate_hz=1000.0)
    sub = hub.subscribe(maxsize=100)
    slow = threading.Thread(target=hub.publish)
    slow.start()
    assert entered.wait(5)
    time.sleep(0.01)
    hub.publish(force=False)  # another publish is building a status: this one is not needed
    assert len(calls) == 2
    forced = threading.Thread(target=hub.publish)
    forced.start()
    time.sleep(0.05)
    assert len(calls) == 2  # waits for the one under way
    release.set()
    slow.join(5)
    forced.join(5)
    got = [sub.get_nowait()["n"] for _ in range(sub.pending())]
    assert got == [1, 2, 3]
