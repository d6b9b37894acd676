"""Benchmark the dashboard's cost to the station and its live-update latency.

Runs a real station (camera loop, real MoveNet, store) served on 127.0.0.1, starts a
long capture with the source running flat out (so inference is CPU-bound, as on the Pi where the
model is slower than the camera), and prints:

1. **Inference rate with 0, 3 and 5 dashboards open** (frames inferred per second of wall time,
   measured over ``--window`` seconds each, order 0 → 3 → 5 → 0 to expose drift). A "dashboard"
   is what a tablet holds open on the live page: one SSE status stream plus one MJPEG preview
   stream, read continuously by a separate process (the tablet's own rendering runs on the
   tablet, not on the station, so it is not charged here). Target (Hardening): with 5 viewers
   the rate drops < 10 % vs none.
2. **Live update latency** in headless Chromium: camera frame timestamp → number on screen.
   Per shown update: ``frame_age_s`` (station clock at send − the frame's timestamp; the bench's
   source stamps frames with the station clock at read, like a Pi camera's sensor timestamps)
   plus ``shown_at − server_time`` (browser paint after the DOM update − server send time; the
   same machine, so one wall clock). Needs /usr/bin/chromium and Playwright.
3. With ``--chromium-viewers``: the inference rate again with 3 and 5 real Chromium live pages
   on this same machine (includes the browsers' own CPU use, so it overstates the station cost).

    .venv/bin/python bench/bench_dashboard.py [--window 8] [--viewers 0,3,5,0] [--source SPEC]
        [--latency-s 10] [--no-browser] [--chromium-viewers]

Figures are noisy on a shared machine: run it alone.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing as mp
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from device.camera.base import Frame, FrameSource  # noqa: E402

TOKEN = "bench-dashboard-token-0123456789"


class StationClockSource(FrameSource):
    """Wraps a file/synthetic source so each frame's ``t`` is the station clock
    (time.monotonic) when it was read — what a live camera's sensor timestamp gives."""

    is_live = True

    def __init__(self, inner: FrameSource) -> None:
        self.inner = inner
        self.name = f"clocked {inner.name}"

    @property
    def size(self) -> tuple[int, int]:
        return self.inner.size

    @property
    def nominal_fps(self) -> float:
        return self.inner.nominal_fps

    def open(self) -> None:
        self.inner.open()

    def read(self) -> Frame | None:
        f = self.inner.read()
        if f is None:
            return None
        return Frame(f.image, time.monotonic(), f.index)

    def close(self) -> None:
        self.inner.close()


def _viewer(host: str, port: int, stop: Any, counts: Any, idx: int) -> None:
    """One tablet's streams: SSE status + MJPEG preview, read until told to stop."""

    def read(path: str, slot: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=10)
        conn.request("GET", path, headers={"Authorization": f"Bearer {TOKEN}"})
        resp = conn.getresponse()
        while not stop.is_set():
            chunk = resp.read1(65536) if hasattr(resp, "read1") else resp.read(4096)
            if not chunk:
                break
            counts[idx * 2 + slot] += len(chunk)
        conn.close()

    threads = [
        threading.Thread(target=read, args=("/live/events", 0), daemon=True),
        threading.Thread(target=read, args=("/live/preview.mjpg", 1), daemon=True),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _request(
    base_host: str, port: int, method: str, path: str, body: bytes | None = None
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(base_host, port, timeout=30)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


class MachineLoad:
    """What the rest of the machine did during a measurement: the load average and the share of
    all CPU time that went to *other* processes (from /proc/stat minus the CPU time of this
    process and its client processes). On a shared machine this says whether a figure was taken quiet.

    ``nice`` is the share of all CPU time spent in niced processes: with the kernel's autogroup
    scheduling (``/proc/sys/kernel/sched_autogroup_enabled``) a ``nice -n 19`` job in another
    session still gets an equal share of the CPU, so it is reported, not assumed away."""

    def __init__(self) -> None:
        self._t0 = self._sample()

    @staticmethod
    def _sample() -> tuple[list[int], float]:
        """(/proc/stat's cpu line, CPU seconds of this process and its child processes)."""
        import os

        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        me = os.getpid()
        own = sum(os.times()[:2])
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                f = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(f[1]) == me:
                own += (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
        return fields, own

    def reset(self) -> None:
        self._t0 = self._sample()

    def line(self) -> str:
        import os

        (a, own0), (b, own1) = self._t0, self._sample()
        d = [y - x for x, y in zip(a, b, strict=False)]
        total = sum(d[:8]) or 1
        tick = os.sysconf("SC_CLK_TCK")
        busy = total - d[3] - d[4]
        others = max(0.0, busy / tick - (own1 - own0))
        cores = os.cpu_count() or 1
        wall = total / tick / cores
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        return (
            f"load average {load}; other processes {100 * others / max(wall, 1e-9):.0f} % of a core "
            f"(niced {100 * d[1] / total * cores:.0f} %), idle {100 * d[3] / total * cores:.0f} % of a core"
        )


def machine_context() -> str:
    """One line: cores, whether autogroup scheduling is on, and this bench's autogroup nice."""
    import os
    import time as _time

    def read(path: str) -> str:
        try:
            return Path(path).read_text().strip()
        except OSError:
            return "?"

    autogroup = {"1": "on", "0": "off"}.get(read("/proc/sys/kernel/sched_autogroup_enabled"), "?")
    return (
        f"{_time.strftime('%Y-%m-%d %H:%M:%S UTC', _time.gmtime())}; {os.cpu_count()} cores; "
        f"autogroup scheduling {autogroup} (this bench: {read('/proc/self/autogroup')}); "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


def _thread_cpu() -> dict[str, float]:
    """CPU seconds per kind of thread of this process (from /proc), to see where the time goes:
    the live loop, the dashboard server (event loop, request threads, stream producers), the pose
    runtime's own workers, others."""
    import os

    names = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            continue
        name = names.get(int(task.name), "native (pose runtime, encoder)")
        if name.startswith(("dashboard-server", "WSGI", "stream-", "pin-check")):
            name = "dashboard"
        elif name.startswith(("finalize", "keypoint", "capture")):
            name = "capture workers"
        out[name] = out.get(name, 0.0) + cpu
    return out


LAST_CPU: dict[str, float] = {}


def _proc_cpu(pid: int | None) -> float:
    import os

    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _rate(station: Any, window: float) -> float:
    ctl = station.controller
    c0 = _thread_cpu()
    n0, t0 = ctl.frames_inferred_total, time.monotonic()
    time.sleep(window)
    fps = (ctl.frames_inferred_total - n0) / (time.monotonic() - t0)
    c1 = _thread_cpu()
    LAST_CPU.clear()
    LAST_CPU.update({k: (c1.get(k, 0.0) - c0.get(k, 0.0)) / window for k in c1})
    return fps


def measure_http_viewers(
    station: Any, host: str, port: int, plan: list[int], window: float
) -> list[tuple[int, float, int]]:
    out = []
    ctx = mp.get_context("spawn")
    for n in plan:
        stop = ctx.Event()
        counts = ctx.Array("q", max(1, 2 * n), lock=False)
        procs = [
            ctx.Process(target=_viewer, args=(host, port, stop, counts, i), daemon=True) for i in range(n)
        ]
        for p in procs:
            p.start()
        time.sleep(2.0 if n else 1.0)  # let the streams connect and settle
        before = sum(counts)
        v0 = sum(_proc_cpu(p.pid) for p in procs)
        machine = MachineLoad()
        fps = _rate(station, window)
        machine_line = machine.line()
        viewers_cpu = (sum(_proc_cpu(p.pid) for p in procs) - v0) / window
        streamed = sum(counts) - before
        stop.set()
        for p in procs:
            p.join(5)
            if p.is_alive():
                p.terminate()
        out.append((n, fps, streamed))
        top = sorted(LAST_CPU.items(), key=lambda kv: -kv[1])
        cpu = ", ".join(f"{k} {100 * v:.1f}%" for k, v in top if v >= 0.001 or k == "dashboard")
        print(
            f"  {n} dashboard(s): {fps:6.1f} inferences/s; {streamed / window / 1e3:6.0f} kB/s to viewers; "
            f"station CPU: {cpu}; viewer processes {100 * viewers_cpu:.1f}%\n"
            f"      machine: {machine_line}",
            flush=True,
        )
    return out


def measure_latency(base: str, seconds: float) -> dict[str, float] | None:
    from playwright.sync_api import sync_playwright

    from tests.support.live_rig import browser_login, launch_chromium

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
            browser_login(page, base)
            page.wait_for_timeout(1000)
            page.evaluate("window.gaitLatency.length = 0")
            page.wait_for_timeout(int(seconds * 1000))
            recs = page.evaluate("window.gaitLatency.slice()")
            shown_frame_t = page.get_attribute("#live", "data-frame-t")
        finally:
            browser.close()
    total = [
        r["frame_age_s"] + (r["shown_at"] - r["server_time"])
        for r in recs
        if isinstance(r.get("frame_age_s"), int | float)
    ]
    push = [r["shown_at"] - r["server_time"] for r in recs]
    if not total:
        return None
    q = statistics.quantiles(total, n=20) if len(total) >= 20 else [max(total)] * 19
    return {
        "updates": len(recs),
        "updates_per_s": len(recs) / seconds,
        "median_ms": 1000 * statistics.median(total),
        "p95_ms": 1000 * q[18],
        "max_ms": 1000 * max(total),
        "push_median_ms": 1000 * statistics.median(push),
        "frame_age_median_ms": 1000
        * statistics.median([r["frame_age_s"] for r in recs if "frame_age_s" in r]),
        "last_frame_t": float(shown_frame_t or "nan"),
    }


def measure_chromium_viewers(station: Any, base: str, counts: list[int], window: float) -> None:
    from playwright.sync_api import sync_playwright

    from tests.support.live_rig import browser_login, launch_chromium

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            for n in counts:
                ctxs = []
                for _ in range(n):
                    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
                    browser_login(ctx.new_page(), base)
                    ctxs.append(ctx)
                time.sleep(2.0)
                fps = _rate(station, window)
                print(f"  {n} Chromium live page(s) on this machine: {fps:6.1f} inferences/s", flush=True)
                for c in ctxs:
                    c.close()
        finally:
            browser.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--window", type=float, default=8.0, help="seconds per inference-rate measurement")
    ap.add_argument("--viewers", default="0,3,5,0", help="dashboards open, in order (default 0,3,5,0)")
    ap.add_argument(
        "--source",
        help="camera source spec (default: the treadmill sample clip, looped and read flat "
        "out so inference is CPU-bound; else the synthetic runner)",
    )
    ap.add_argument(
        "--latency-s", type=float, default=10.0, help="seconds of live updates for the latency figure"
    )
    ap.add_argument("--no-browser", action="store_true", help="skip the Chromium latency measurement")
    ap.add_argument("--chromium-viewers", action="store_true", help="also measure with real Chromium pages")
    ap.add_argument("--threads", type=int, default=2, help="pose model threads ([pose] num_threads)")
    args = ap.parse_args()

    from device.camera import open_source
    from device.station import Station
    from tests.support.live_rig import PIN, make_config, source_spec
    from web.app import create_app
    from web.auth import hash_pin, save_pin_hash
    from web.serve import DashboardServer

    clip = REPO.parent / "shared" / "samples" / "treadmill_side_slowmo.mp4"
    spec = args.source or (str(clip) if clip.is_file() else source_spec())
    model = REPO.parent / "shared" / "models" / "movenet_singlepose_lightning_int8_4.tflite"
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        cfg = make_config(Path(tmp))
        cfg.pose.model_path = str(model)
        cfg.pose.num_threads = args.threads
        cfg.camera.loop_video = True
        cfg.capture.duration_s = 1800.0
        cfg.capture.countdown_s = 0
        cfg.web.api_token = TOKEN
        save_pin_hash(cfg.data_dir, hash_pin(PIN))  # the station's own scrypt cost, not the tests' cheap one
        station = Station(
            cfg, source_spec=spec, source_factory=lambda: StationClockSource(open_source(spec, cfg))
        )
        station.start()
        app = create_app(station, cfg)
        server = DashboardServer(app, "127.0.0.1", 0, threads=cfg.web.threads).start()
        try:
            host, port = server.host, server.port
            print(f"machine: {machine_context()}")
            print(
                f"station: source {spec}, MoveNet {args.threads} thread(s), preview "
                f"{cfg.capture.live_preview_fps:g} fps, {cfg.web.threads} request threads on {server.url}"
            )
            status, body = _request(
                host,
                port,
                "POST",
                "/api/capture/start",
                b'{"runner": {"name": "Bench", "height_cm": 175}, "speed_kmh": 12}',
            )
            if status != 201:
                print(f"could not start a capture: {status} {body[:200]!r}")
                return 1
            time.sleep(3.0)  # warm-up: model, caches, the first analysis-free seconds
            plan = [int(x) for x in args.viewers.split(",") if x.strip()]
            print(f"\ninference rate while capturing ({args.window:g} s windows):")
            res = measure_http_viewers(station, host, port, plan, args.window)
            base = statistics.mean([fps for n, fps, _ in res if n == 0] or [float("nan")])
            for n, fps, _ in res:
                if n:
                    print(
                        f"  → {n} dashboards: {100 * (fps - base) / base:+.1f} % vs no viewer "
                        f"(baseline {base:.1f}/s = mean of the 0-viewer windows)"
                    )
            if not args.no_browser:
                print(f"\nlive update latency in Chromium ({args.latency_s:g} s):")
                lat = measure_latency(server.url, args.latency_s)
                if lat is None:
                    print("  no updates with a frame age (source clock not the station clock?)")
                else:
                    print(
                        f"  {lat['updates']} updates ({lat['updates_per_s']:.1f}/s); frame → screen: median "
                        f"{lat['median_ms']:.0f} ms, p95 {lat['p95_ms']:.0f} ms, max {lat['max_ms']:.0f} ms"
                    )
                    print(
                        f"  of which frame → SSE send (inference + status push): median "
                        f"{lat['frame_age_median_ms']:.0f} ms; SSE send → painted: median {lat['push_median_ms']:.0f} ms"
                    )
            if args.chromium_viewers:
                print("\ninference rate with real Chromium pages on this machine:")
                measure_chromium_viewers(station, server.url, [0, 3, 5], args.window)
            _request(host, port, "POST", "/api/capture/cancel")
        finally:
            server.stop()
            station.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
