"""The live hub's feeds: one item, built once, shared by every viewer (issue 13)."""

from __future__ import annotations

import asyncio
import threading

from web.live_hub import Feed, mjpeg_head


def _idle_feed() -> Feed:
    # no producer thread: the test publishes by hand
    return Feed("test", lambda feed: None)


def test_an_mjpeg_frame_is_one_shared_bytes_object_for_every_viewer():
    feed = _idle_feed()
    jpeg = b"\xff\xd8" + b"x" * 1000 + b"\xff\xd9"
    feed.publish(mjpeg_head(len(jpeg)), jpeg, b"\r\n")
    first = feed.newer(0)
    second = feed.newer(0)
    assert first is not None and second is not None
    assert first[1] == mjpeg_head(len(jpeg)) + jpeg + b"\r\n"
    assert first[1] is second[1], "each viewer must send the same object, not its own copy"
    assert feed.newer(first[0]) is None


def test_one_publish_wakes_every_waiting_viewer_of_an_event_loop():
    feed = _idle_feed()

    async def viewers() -> list[tuple[int, bytes] | None]:
        waits = [asyncio.ensure_future(feed.wait_async(0, 5.0)) for _ in range(20)]
        await asyncio.sleep(0.05)  # all 20 are waiting now
        assert feed.waiting_loops == 1, "one wake-up per event loop, not one per viewer"
        threading.Thread(target=feed.publish, args=(b"data: 1\n\n",)).start()
        return await asyncio.gather(*waits)

    got = asyncio.run(viewers())
    assert got == [(1, b"data: 1\n\n")] * 20
    assert feed.waiting_loops == 0


def test_a_viewer_that_waits_in_vain_times_out_and_a_newer_item_returns_at_once():
    feed = _idle_feed()
    feed.publish(b"old")

    async def wait() -> tuple[int, bytes] | None:
        return await feed.wait_async(1, 0.05)

    assert asyncio.run(wait()) is None
    assert asyncio.run(feed.wait_async(0, 0.05)) == (1, b"old")  # a newer item returns at once
