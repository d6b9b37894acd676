"""Load bench: does the dashboard under load take anything from the capture?

Runs a real station (camera loop with the source read flat out so inference is CPU-bound, real
MoveNet, store) served by ``web.serve`` on 127.0.0.1, starts a long capture and measures, in
alternating windows of ``--window`` seconds (so drift shows up):

- **none**: the capture alone — the baseline inference rate (frames inferred per second);
- **viewers**: ``--viewers`` tablets (default 20) on the live page, each one SSE status stream
  and one MJPEG preview stream, each tablet its own loopback address (127.0.0.10, .11, …), all read
  continuously by one separate process (a tablet's rendering is the tablet's, not the station's);
- **flood**: wrong-PIN logins (login page + POST, each from the next of ``--flood-addresses``
  loopback addresses 127.0.3.x) at ``--flood-rate`` attempts/s (default 50, ten times what the
  black-box probe sent) by ``--flood-workers`` threads in a separate process, for the window only
  and at most ``--flood-max`` per window: bounded, loopback only, stops by itself.

The CPU time of the dashboard's own threads (event loop, request threads, stream producers,
PIN check) is reported per window: on a shared machine it says what the load costs the station
more steadily than the inference rate does. In every window a prober process asks ``GET /api/status`` 5 times a second; its latencies are
reported per kind of window (p50/p99/max). Then, with the viewers connected, ``--stops`` short
captures are started and stopped: the latency of each ``POST /api/capture/stop``. The station
process's resident memory is sampled throughout (peak per kind of window, and at the end).

    .venv/bin/python bench/bench_load.py [--window 10] [--rounds 2] [--viewers 20] [--stops 10]

Client processes run at nice 10 (they stand for other devices). Figures are noisy on a shared
machine: run it alone and compare windows of the same run.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import selectors
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_dashboard import (  # noqa: E402
    TOKEN,
    MachineLoad,
    StationClockSource,
    _proc_cpu,
    _request,
    _thread_cpu,
    machine_context,
)


def _nice() -> None:
    os.nice(10)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- client processes (long-lived; the main process switches them with ``phase``) ------------------

NONE, VIEWERS, FLOOD, DONE = 0, 1, 2, 3
KINDS = {NONE: "none", VIEWERS: "viewers", FLOOD: "flood"}


def _viewers(port: int, n: int, phase: Any, got: Any) -> None:
    """While ``phase`` is VIEWERS: ``n`` tablets' streams (SSE + MJPEG each, tablet i on
    127.0.0.(10+i)) read with one selector; bytes per stream added to ``got``."""
    _nice()
    while phase.value != DONE:
        if phase.value != VIEWERS:
            time.sleep(0.05)
            continue
        sel = selectors.DefaultSelector()
        for i in range(n):
            for slot, path in enumerate(("/live/events", "/live/preview.mjpg")):
                s = socket.create_connection(
                    ("127.0.0.1", port), timeout=10, source_address=(f"127.0.0.{10 + i}", 0)
                )
                s.sendall(
                    f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode()
                )
                s.setblocking(False)
                sel.register(s, selectors.EVENT_READ, 2 * i + slot)
        while phase.value == VIEWERS:
            for key, _ in sel.select(0.2):
                try:
                    data = key.fileobj.recv(65536)
                except BlockingIOError:
                    continue
                if not data:
                    sel.unregister(key.fileobj)
                    continue
                got[key.data] += len(data)
        for key in list(sel.get_map().values()):
            key.fileobj.close()
        sel.close()


def _prober(port: int, phase: Any, out: Any) -> None:
    """``GET /api/status`` 5 times a second: (phase, ms or -1) into ``out``. At normal priority:
    it stands for the clinician's tablet, whose latency the other clients must not inflate."""
    import http.client

    while phase.value != DONE:
        t0 = time.perf_counter()
        now = phase.value
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/api/status", headers={"Authorization": f"Bearer {TOKEN}"})
            resp = conn.getresponse()
            resp.read()
            conn.close()
            ms = 1000 * (time.perf_counter() - t0) if resp.status == 200 else -1.0
        except OSError:
            ms = -1.0
        if phase.value == now:
            out.put((now, ms))
        time.sleep(max(0.0, 0.2 - (time.perf_counter() - t0)))


def _flood(
    port: int, phase: Any, addresses: int, workers: int, rate: float, max_requests: int, out: Any
) -> None:
    """While ``phase`` is FLOOD: wrong-PIN logins (GET the form, POST a wrong PIN) from
    ``addresses`` loopback addresses, about ``rate`` attempts/s and at most ``max_requests`` per
    flood window."""
    import http.client
    import re
    import urllib.parse

    _nice()
    lock = threading.Lock()
    sent = [0]

    def worker(w: int) -> None:
        i = w
        interval = workers / rate
        next_at = time.monotonic() + w * interval / workers
        while phase.value != DONE:
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            next_at = max(next_at + interval, time.monotonic() - interval)
            if phase.value != FLOOD:
                with lock:
                    sent[0] = 0
                time.sleep(0.05)
                continue
            with lock:
                if sent[0] >= max_requests:
                    time.sleep(0.05)
                    continue
                sent[0] += 1
            ip = f"127.0.3.{1 + i % addresses}"
            i += workers
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(ip, 0))
                conn.request("GET", "/login")
                resp = conn.getresponse()
                page = resp.read().decode()
                cookie = (resp.getheader("Set-Cookie") or "").split(";", 1)[0]
                token = re.search(r'name="csrf_token" value="([^"]+)"', page)  # none on a "wait" page
                pin = f"{(i * 7919) % 1000000:06d}"
                form = urllib.parse.urlencode({"pin": pin, "csrf_token": token[1] if token else "x"})
                conn.request(
                    "POST",
                    "/login",
                    body=form,
                    headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
                )
                resp = conn.getresponse()
                resp.read()
                conn.close()
                code = resp.status
            except OSError:
                code = 0
            if phase.value == FLOOD:
                out.put(code)

    threads = [threading.Thread(target=worker, args=(w,), daemon=True) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


# -- the bench ------------------------------------------------------------------------------------


class RssSampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0.0
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.wait(0.25):
            self.peak = max(self.peak, _rss_mb())

    def take_peak(self) -> float:
        peak, self.peak = max(self.peak, _rss_mb()), 0.0
        return peak

    def stop(self) -> None:
        self._stop.set()


def _set_dashboard_nice(nice: int | None) -> None:
    if nice is not None:
        from web import serve

        serve.DASHBOARD_NICE = nice


def _time_status_in_server(server: Any) -> list[float]:
    """Server-side time of each ``GET /api/status`` (request head parsed → response sent, in ms):
    what the station itself takes, apart from the client's and the kernel's scheduling."""
    out: list[float] = []
    inner = server.asgi.wsgi

    async def timed(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("path") != "/api/status":
            await inner(scope, receive, send)
            return
        t0 = time.perf_counter()
        await inner(scope, receive, send)
        out.append(1000 * (time.perf_counter() - t0))

    server.asgi.wsgi = timed
    return out


def _dashboard_cpu() -> dict[str, float]:
    """CPU seconds (user + system) of the dashboard's threads by kind, from /proc."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    kinds = {"dashboard-server": "event loop", "WSGI": "request threads", "stream-": "stream producers"}
    kinds["pin-check"] = "PIN hash"
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        name = names.get(int(task.name), "")
        kind = next((k for prefix, k in kinds.items() if name.startswith(prefix)), None)
        if kind is None:
            continue
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        for part, i in (("user", 11), ("sys", 12)):
            key = f"{kind} {part}"
            out[key] = out.get(key, 0.0) + int(fields[i]) / tick
    return out


def _frames_recorded(station: Any) -> tuple[int, int]:
    """(frames recorded, frames missed) of the running capture."""
    st = station.status()
    return int(st.get("frames_recorded") or 0), int(st.get("frames_missed") or 0)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def _args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--window", type=float, default=10.0, help="seconds per measurement window")
    ap.add_argument("--rounds", type=int, default=2, help="rounds of none → viewers → none → flood")
    ap.add_argument("--viewers", type=int, default=20, help="tablets on the live page")
    ap.add_argument("--flood-addresses", type=int, default=120)
    ap.add_argument("--flood-workers", type=int, default=8)
    ap.add_argument(
        "--flood-rate",
        type=float,
        default=50.0,
        help="wrong-PIN attempts per second (the probe measured 4.8)",
    )
    ap.add_argument("--flood-max", type=int, default=5000, help="at most this many login attempts per window")
    ap.add_argument("--stops", type=int, default=10, help="short captures stopped with the viewers connected")
    ap.add_argument("--threads", type=int, default=2, help="pose model threads ([pose] num_threads)")
    ap.add_argument(
        "--camera-fps",
        type=float,
        default=120.0,
        help="the camera: the treadmill clip at 1280×720 paced at this rate with 12 buffers, as the "
        "Pi camera delivers it (a reader more than 12 frames late loses frames: counted as missed); "
        "0 = the clip read flat out (the camera loop and the live view then share the CPU, so the "
        "recorded-frame rate is a CPU-throughput figure)",
    )
    ap.add_argument("--source", help="camera source read flat out (instead of the paced clip)")
    ap.add_argument(
        "--dashboard-nice",
        type=int,
        help="nice of the dashboard's threads (default: web.serve.DASHBOARD_NICE)",
    )
    return ap.parse_args()


def _camera(args: argparse.Namespace, cfg: Any) -> tuple[str, list[Any], Any]:
    """(what the camera is, the replay frames held by the bench, the source factory)."""
    from device.camera import open_source
    from tests.support.live_rig import source_spec

    clip = REPO.parent / "shared" / "samples" / "treadmill_side_slowmo.mp4"
    spec = args.source or (str(clip) if clip.is_file() else source_spec())
    if args.camera_fps > 0 and not args.source and clip.is_file():
        from bench.bench_capture import ReplayCamera, load_clip

        replay = load_clip(clip, (1280, 720), n=30)
        return (
            f"{clip.name} at 1280×720, paced at {args.camera_fps:g} fps (12 buffers)",
            replay,
            lambda: ReplayCamera(replay, args.camera_fps),
        )
    return f"{spec}, read flat out", [], lambda: StationClockSource(open_source(spec, cfg))


def main() -> int:
    args = _args()

    from device.station import Station
    from tests.support.live_rig import PIN, make_config
    from web.app import create_app
    from web.auth import hash_pin, save_pin_hash
    from web.serve import DashboardServer

    _set_dashboard_nice(args.dashboard_nice)

    model = REPO.parent / "shared" / "models" / "movenet_singlepose_lightning_int8_4.tflite"
    ctx = mp.get_context("spawn")
    print(f"machine: {machine_context()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        cfg = make_config(Path(tmp))
        cfg.pose.model_path = str(model)
        cfg.pose.num_threads = args.threads
        cfg.camera.loop_video = True
        cfg.capture.duration_s = 1800.0
        cfg.capture.countdown_s = 0
        cfg.web.api_token = TOKEN
        cfg.web.login_attempts_per_minute = 5
        save_pin_hash(cfg.data_dir, hash_pin(PIN))  # the station's own scrypt cost, not the tests' cheap one
        spec, replay, make_source = _camera(args, cfg)
        station = Station(cfg, source_spec=spec, source_factory=make_source)
        station.start()
        app = create_app(station, cfg)
        server = DashboardServer(app, "127.0.0.1", 0, threads=cfg.web.threads).start()
        served_ms = _time_status_in_server(server)
        rss = RssSampler()
        rss.start()
        ctl = station.controller
        print(
            f"station: source {spec}, MoveNet {args.threads} thread(s), preview "
            f"{cfg.capture.live_preview_fps:g} fps, {cfg.web.threads} request threads on {server.url}; "
            f"RSS at start {_rss_mb():.0f} MB"
            + (
                f" (of which {sum(im.nbytes for im in replay) / 1e6:.0f} MB the bench's replay frames)"
                if replay
                else ""
            ),
            flush=True,
        )
        try:
            status, body = _request(
                "127.0.0.1",
                server.port,
                "POST",
                "/api/capture/start",
                b'{"runner": {"name": "Bench", "height_cm": 175}, "speed_kmh": 12}',
            )
            if status != 201:
                print(f"could not start a capture: {status} {body[:200]!r}")
                return 1
            time.sleep(3.0)
            phase = ctx.Value("i", NONE, lock=False)
            probes, codes = ctx.Queue(), ctx.Queue()
            got = ctx.Array("q", 2 * args.viewers, lock=False)
            clients = [
                ctx.Process(target=_prober, args=(server.port, phase, probes), daemon=True),
                ctx.Process(target=_viewers, args=(server.port, args.viewers, phase, got), daemon=True),
                ctx.Process(
                    target=_flood,
                    args=(
                        server.port,
                        phase,
                        args.flood_addresses,
                        args.flood_workers,
                        args.flood_rate,
                        args.flood_max,
                        codes,
                    ),
                    daemon=True,
                ),
            ]
            for p in clients:
                p.start()
            time.sleep(3.0)  # the client processes import and settle
            rss.take_peak()
            plan = [NONE, VIEWERS, NONE, FLOOD] * args.rounds + [NONE]
            fps_by: dict[int, list[float]] = {NONE: [], VIEWERS: [], FLOOD: []}
            rec_by: dict[int, list[float]] = {NONE: [], VIEWERS: [], FLOOD: []}
            missed_by: dict[int, int] = {NONE: 0, VIEWERS: 0, FLOOD: 0}
            status_by: dict[int, list[float]] = {NONE: [], VIEWERS: [], FLOOD: []}
            failed_by: dict[int, int] = {NONE: 0, VIEWERS: 0, FLOOD: 0}
            peaks: dict[int, float] = {NONE: 0.0, VIEWERS: 0.0, FLOOD: 0.0}
            cpu_by: dict[int, list[float]] = {NONE: [], VIEWERS: [], FLOOD: []}
            served_by: dict[int, list[float]] = {NONE: [], VIEWERS: [], FLOOD: []}
            codes_all: list[int] = []
            print(f"\ninference rate while capturing ({args.window:g} s windows):", flush=True)
            for kind in plan:
                phase.value = kind
                time.sleep(1.5)  # streams connected / flood running
                rss.take_peak()
                bytes0 = list(got)
                served_ms.clear()
                machine = MachineLoad()
                client_cpu0 = [_proc_cpu(c.pid) for c in clients]
                n0, t0, cpu0 = ctl.frames_inferred_total, time.monotonic(), _thread_cpu()
                parts0 = _dashboard_cpu()
                rec0, missed0 = _frames_recorded(station)
                time.sleep(args.window)
                elapsed = time.monotonic() - t0
                fps = (ctl.frames_inferred_total - n0) / elapsed
                rec1, missed1 = _frames_recorded(station)
                rec_fps = (rec1 - rec0) / elapsed
                missed = missed1 - missed0
                machine_line = machine.line()
                client_cpu = ", ".join(
                    f"{name} {100 * (_proc_cpu(c.pid) - c0) / elapsed:.0f} %"
                    for name, c, c0 in zip(("prober", "viewers", "flood"), clients, client_cpu0, strict=True)
                )
                cpu1 = _thread_cpu()
                server_cpu = (cpu1.get("dashboard", 0.0) - cpu0.get("dashboard", 0.0)) / elapsed
                parts1 = _dashboard_cpu()
                split = ", ".join(
                    f"{k} {100 * (parts1[k] - parts0.get(k, 0.0)) / elapsed:.1f}"
                    for k in sorted(parts1)
                    if parts1[k] - parts0.get(k, 0.0) > 0.005 * elapsed
                )
                in_server = list(served_ms)
                served_by[kind] += in_server
                peak = rss.take_peak()
                per = [b - a for a, b in zip(bytes0, list(got), strict=True)]
                phase.value = -1  # between windows: clients idle, samples dropped
                time.sleep(0.5)
                lat, failed = [], 0
                while not probes.empty():
                    k, ms = probes.get()
                    if k == kind and ms >= 0:
                        lat.append(ms)
                    elif k == kind:
                        failed += 1
                win_codes = []
                while not codes.empty():
                    win_codes.append(codes.get())
                fps_by[kind].append(fps)
                rec_by[kind].append(rec_fps)
                missed_by[kind] += missed
                status_by[kind] += lat
                failed_by[kind] += failed
                peaks[kind] = max(peaks[kind], peak)
                cpu_by[kind].append(server_cpu)
                extra = ""
                if kind == VIEWERS:
                    extra = (
                        f"; {args.viewers} viewers got {sum(per) / args.window / 1e3:.0f} kB/s, "
                        f"streams that got nothing: {sum(1 for b in per if b == 0)} of {len(per)}"
                    )
                if kind == FLOOD:
                    codes_all += win_codes
                    tally = ", ".join(f"{c}: {win_codes.count(c)}" for c in sorted(set(win_codes)))
                    extra = f"; {len(win_codes)} wrong-PIN logins ({len(win_codes) / (args.window + 1.5):.0f}/s) → {tally}"
                print(
                    f"  {KINDS[kind]:8s} {fps:6.1f} inferences/s, {rec_fps:6.1f} frames recorded/s ({missed} missed); dashboard threads {100 * server_cpu:4.1f} % of a core ({split}); "
                    f"/api/status p50 {_pct(lat, 0.5):.0f} ms, "
                    f"p99 {_pct(lat, 0.99):.0f} ms ({len(lat)} ok, {failed} failed), in the server p99 "
                    f"{_pct(in_server, 0.99):.0f} ms; RSS peak {peak:.0f} MB{extra}\n"
                    f"           machine: {machine_line}; the bench's client processes: {client_cpu} of a core",
                    flush=True,
                )
            _print_summary(fps_by, rec_by, missed_by, status_by, failed_by, served_by, peaks, cpu_by)
            phase.value = DONE
            for p in clients:
                p.join(15)
                if p.is_alive():
                    p.terminate()
            # The long capture is cancelled (its analysis would take minutes): Stop is measured
            # on the short captures below.
            _request("127.0.0.1", server.port, "POST", "/api/capture/cancel")
            station.wait_for_state(("done", "failed", "idle"), timeout=120)
            print()
            for viewers in (0, args.viewers):
                machine = MachineLoad()
                stop_ms = measure_stops(ctx, server.port, station, args, viewers)
                if stop_ms:
                    print(
                        f"POST /api/capture/stop with {viewers} viewers connected ({len(stop_ms)} captures): "
                        f"p50 {_pct(stop_ms, 0.5):.0f} ms, p99 {_pct(stop_ms, 0.99):.0f} ms, "
                        f"max {max(stop_ms):.0f} ms; RSS after them {_rss_mb():.0f} MB\n  machine: {machine.line()}",
                        flush=True,
                    )
            print(f"RSS at the end: {_rss_mb():.0f} MB", flush=True)
        finally:
            rss.stop()
            server.stop()
            station.close()
    return 0


def _print_summary(
    fps_by: dict[int, list[float]],
    rec_by: dict[int, list[float]],
    missed_by: dict[int, int],
    status_by: dict[int, list[float]],
    failed_by: dict[int, int],
    served_by: dict[int, list[float]],
    peaks: dict[int, float],
    cpu_by: dict[int, list[float]],
) -> None:
    base = statistics.mean(fps_by[NONE])
    rec_base = statistics.mean(rec_by[NONE])
    print("\nsummary:")
    print(f"  capture : none {rec_base:.1f} frames recorded/s, {missed_by[NONE]} missed")
    for kind in (VIEWERS, FLOOD):
        m = statistics.mean(rec_by[kind])
        print(
            f"  capture : {KINDS[kind]:8s} {m:.1f} frames recorded/s = {100 * (m - rec_base) / rec_base:+.1f} % vs none, "
            f"{missed_by[kind]} missed"
        )
    print(
        f"  none    : {base:.1f} inferences/s (mean of {len(fps_by[NONE])} windows, "
        f"median {statistics.median(fps_by[NONE]):.1f}); /api/status p99 {_pct(status_by[NONE], 0.99):.0f} ms; "
        f"RSS peak {peaks[NONE]:.0f} MB"
    )
    for kind in (VIEWERS, FLOOD):
        m = statistics.mean(fps_by[kind])
        lat = status_by[kind]
        print(
            f"  {KINDS[kind]:8s}: {m:.1f} inferences/s = {100 * (m - base) / base:+.1f} % vs none "
            f"(median {100 * (statistics.median(fps_by[kind]) - statistics.median(fps_by[NONE])) / statistics.median(fps_by[NONE]):+.1f} %); "
            f"/api/status p99 {_pct(lat, 0.99):.0f} ms, max {max(lat, default=float('nan')):.0f} ms "
            f"({len(lat)} ok, {failed_by[kind]} failed), in the server p50 {_pct(served_by[kind], 0.5):.0f} ms "
            f"p99 {_pct(served_by[kind], 0.99):.0f} ms (none: {_pct(served_by[NONE], 0.99):.0f} ms); "
            f"RSS peak {peaks[kind]:.0f} MB; "
            f"dashboard threads {100 * statistics.mean(cpu_by[kind]):.1f} % of a core "
            f"(none: {100 * statistics.mean(cpu_by[NONE]):.1f} %)"
        )


def measure_stops(ctx: Any, port: int, station: Any, args: argparse.Namespace, n_viewers: int) -> list[float]:
    phase = ctx.Value("i", VIEWERS if n_viewers else NONE, lock=False)
    got = ctx.Array("q", max(1, 2 * n_viewers), lock=False)
    viewers = ctx.Process(target=_viewers, args=(port, n_viewers, phase, got), daemon=True)
    viewers.start()
    time.sleep(3.0)
    out = []
    try:
        for _ in range(args.stops):
            status, body = _request(
                "127.0.0.1",
                port,
                "POST",
                "/api/capture/start",
                # new_runner: the name repeats each round; the API offers an existing name (409)
                b'{"runner": {"name": "Bench", "height_cm": 175}, "speed_kmh": 12, "new_runner": true}',
            )
            if status != 201:
                print(f"  start refused: {status} {body[:120]!r}")
                break
            time.sleep(2.0)
            t0 = time.perf_counter()
            status, _ = _request("127.0.0.1", port, "POST", "/api/capture/stop")
            out.append(1000 * (time.perf_counter() - t0))
            if status != 200:
                print(f"  stop answered {status}")
            if station.wait_for_state(("done", "failed", "idle"), timeout=600) == "analysing":
                print("  the analysis of a 2 s capture took over 10 min: stopping here")
                break
    finally:
        phase.value = DONE
        viewers.join(10)
    if n_viewers and sum(got) == 0:
        print("  (the viewers received nothing during the stops)")
    return out


if __name__ == "__main__":
    sys.exit(main())
