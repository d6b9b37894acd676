"""Benchmark a whole capture: camera frames → real MoveNet → timeline + DB writer + spool → analysis.

Runs one capture of ``--duration`` seconds (default 120, the station's default) at the source's
frame rate through :class:`device.capture.controller.CaptureController` with the real pose model,
the real gait engine and a fresh SQLite store, then prints:

- peak RSS of the process (and the RSS before the capture);
- frames inferred vs keypoint frames stored (must be equal: no inferred frame's keypoints lost);
- effective analysis rate (frames per second of source time) and wall-clock inference throughput;
- frames dropped (``--realtime`` only: the source plays at camera speed and drops frames when
  inference falls behind, as a live camera does);
- analysis time, database size for the session, evidence frames and the spool size.

Default source: the synthetic runner camera when present, else a sample clip looped (``--source``
takes any source spec: a video path, ``synthetic``, ``webcam``, ``picamera``). Without
``--realtime`` the source runs as fast as inference allows (a 2-minute capture takes less).

    .venv/bin/python bench/bench_capture.py [--duration 120] [--realtime] [--source SPEC]
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from device.camera.base import Frame, FrameSource  # noqa: E402
from device.config import Config  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class PacedSource(FrameSource):
    """Plays a non-live source at its own rate like a camera: when the reader is slow, the frames
    whose time has passed are dropped (the reader always gets the newest)."""

    is_live = True

    def __init__(self, inner: FrameSource) -> None:
        self.inner = inner
        self.name = f"paced {inner.name}"
        self._t_open = 0.0
        self._t0: float | None = None
        self.dropped = 0

    @property
    def size(self) -> tuple[int, int]:
        return self.inner.size

    @property
    def nominal_fps(self) -> float:
        return self.inner.nominal_fps

    def open(self) -> None:
        self.inner.open()
        self._t_open = time.monotonic()
        self._t0 = None

    def read(self) -> Frame | None:
        while True:
            f = self.inner.read()
            if f is None:
                return None
            if self._t0 is None:
                self._t0 = f.t
            due = self._t_open + (f.t - self._t0)
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
                return f
            if now - due < 1.0 / max(1.0, self.nominal_fps):
                return f  # the newest frame
            self.dropped += 1  # the camera moved on without us

    def close(self) -> None:
        self.inner.close()


def default_source(cfg: Config) -> str:
    try:
        import device.camera.synthetic  # noqa: F401

        return "synthetic"
    except ImportError:
        clip = REPO.parent / "shared" / "samples" / "walking_side_30fps.mp4"
        cfg.camera.loop_video = True
        return str(clip)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=120.0, help="capture length in source seconds")
    ap.add_argument(
        "--source", default=None, help="source spec (default: synthetic, else a looped sample clip)"
    )
    ap.add_argument(
        "--realtime", action="store_true", help="play the source at camera speed, dropping late frames"
    )
    ap.add_argument("--threads", type=int, default=2, help="MoveNet threads")
    ap.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )

    from device.camera import open_source
    from device.capture.controller import CaptureController, SessionRequest
    from device.pose import MoveNetEstimator, resolve_model_path
    from device.store import Store

    tmp = Path(tempfile.mkdtemp(prefix="bench-capture-"))
    cfg = Config()
    cfg.storage.data_dir = str(tmp)
    cfg.storage.min_free_mb = 0
    cfg.capture.duration_s = args.duration
    cfg.capture.countdown_s = 0
    cfg.capture.stall_timeout_s = 30
    cfg.pose.num_threads = args.threads
    spec = args.source or default_source(cfg)

    est = MoveNetEstimator(resolve_model_path(cfg), args.threads, quiet=True)
    paced: list[PacedSource] = []

    def factory() -> FrameSource:
        if spec == "synthetic" and not args.realtime:
            from device.camera.synthetic import SyntheticSource

            return SyntheticSource(
                realtime=False, size=(cfg.camera.width, cfg.camera.height), fps=cfg.camera.fps
            )
        src = open_source(spec, cfg, model_input=est.input_size[0])
        if args.realtime and not src.is_live:
            p = PacedSource(src)
            paced.append(p)
            return p
        return src

    store = Store(tmp / "station.db")
    ctl = CaptureController(cfg, store, factory, est, source_name=spec)
    rss_samples: list[float] = []
    stop_sampling = threading.Event()

    def sample() -> None:
        while not stop_sampling.wait(0.25):
            rss_samples.append(rss_mb())

    threading.Thread(target=sample, daemon=True).start()
    ctl.start()
    time.sleep(1.0)  # the live loop warms up (model, first frames) as it would at station start
    rss_before = rss_mb()
    rid = store.create_runner("Bench Runner", 178)
    t_start = time.monotonic()
    sid = ctl.start_capture(SessionRequest(runner_id=rid, speed_kmh=11.0, view="side"))
    ctl.wait_for_state("analysing", args.duration * 20 + 60)
    t_captured = time.monotonic()
    state = ctl.wait_for_state(("done", "failed"), 600)
    t_done = time.monotonic()
    ctl.close()
    stop_sampling.set()
    s = store.get_session(sid)
    stored = store.count_keypoints(sid)
    evidence = store.list_evidence(sid)
    store.checkpoint()
    db_bytes = store.size_bytes()
    kp_bytes = (
        store._conn()
        .execute(
            "SELECT COALESCE(SUM(length(t)+length(xy)+length(score)+length(frame)), 0), COUNT(*) "
            "FROM keypoint_batches WHERE session_id = ?",
            (sid,),
        )
        .fetchone()
    )
    ev_bytes = sum(e["jpeg_bytes"] for e in evidence)
    store.close()

    wall_capture = t_captured - t_start
    inferred = s["frames_inferred"]
    a = s["analysis"] or {}
    print(f"source                {spec}{' (paced at camera speed)' if args.realtime else ''}")
    print(
        f"capture               {args.duration:g} s of source time in {wall_capture:.1f} s wall; state {state}"
        + (f" ({s['error']})" if s["error"] else "")
    )
    print(f"frames inferred       {inferred}")
    print(f"keypoints stored      {stored}  ({'EQUAL' if stored == inferred else 'MISMATCH'})")
    print(
        f"frames dropped        {s['frames_dropped']}"
        + (f" (source skipped {paced[-1].dropped})" if paced else "")
    )
    print(f"effective rate        {s['effective_fps']} frames/s of source time")
    print(
        f"inference throughput  {inferred / wall_capture:.1f} frames/s wall clock (live loop incl. spool, DB)"
    )
    print(f"analysis              {t_done - t_captured:.2f} s; cadence {a.get('cadence_spm')} spm")
    print(
        f"RSS                   {rss_before:.0f} MB before capture, peak sampled {max(rss_samples or [0]):.0f} MB, "
        f"ru_maxrss {peak_rss_mb():.0f} MB"
    )
    print(
        f"database              {db_bytes / 1e6:.2f} MB total; keypoints {kp_bytes[0] / 1e6:.2f} MB in {kp_bytes[1]} "
        f"batches; evidence {len(evidence)} frames {ev_bytes / 1e3:.0f} kB"
    )
    if args.keep:
        print(f"data kept in          {tmp}")
    else:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if stored == inferred and state == "done" else 1


if __name__ == "__main__":
    sys.exit(main())
