"""`gait-station run` as systemd runs it: binds the given host/port, serves, stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support.live_rig import source_spec

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_serves_and_stops_cleanly_on_sigterm(tmp_path, model_path):
    port = _free_port()
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[pose]\nmodel_path = "{model_path}"\nnum_threads = 1\n[gpio]\nenabled = false\n', encoding="utf-8"
    )
    env = {**os.environ, "GAIT_STATION_API_TOKEN": "serve-test-token-0123"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "device.cli",
            "run",
            "--source",
            source_spec(),
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            "--config",
            str(cfg),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        status = None
        end = time.monotonic() + 60
        while time.monotonic() < end and proc.poll() is None:
            try:
                req = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/status",
                    headers={"Authorization": "Bearer serve-test-token-0123"},
                )
                with urllib.request.urlopen(req, timeout=2) as resp:
                    status = resp.status
                    break
            except OSError:
                time.sleep(0.3)
        assert status == 200, "the dashboard never answered"
        # an open live stream must not hold up the shutdown
        stream = urllib.request.urlopen(
            urllib.request.Request(
                f"http://127.0.0.1:{port}/live/events",
                headers={"Authorization": "Bearer serve-test-token-0123"},
            ),
            timeout=5,
        )
        assert stream.readline().startswith(b"retry:")
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out
        assert time.monotonic() - t0 < 15
        assert "stopped" in out and "Traceback" not in out
        stream.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
