"""`gait-station run`: the station (camera, pose, buttons, printers) plus the dashboard, served by
waitress on exactly the configured host and port, until SIGTERM/SIGINT.

Shutdown order: the app's shutdown event ends the live streams (SSE, MJPEG) within a second,
waitress stops accepting and drains its threads, then the station stops the camera, finishes
or interrupts the capture and closes the store.

This module is imported by the CLI at startup: keep heavy imports inside functions.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from typing import Any

from device.errors import ConfigError, UserError

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        metavar="SPEC",
        help="camera: picamera[:N] | webcam[:N] | synthetic | a video file | auto "
        "(default: [camera] source; auto = Pi camera if present, else synthetic)",
    )
    parser.add_argument("--host", help="address to listen on (default: [web] host, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default: [web] port, 8080)")
    parser.add_argument("--config", metavar="FILE", help="configuration file (TOML)")
    parser.add_argument(
        "--data-dir", metavar="DIR", help="station data directory (default: per-user data dir)"
    )


class DashboardServer:
    """Waitress serving one app: in the foreground (:meth:`serve_forever`) or in a thread
    (:meth:`start`, for tests and benchmarks), stopped cleanly by :meth:`stop`."""

    def __init__(self, app: Any, host: str, port: int, threads: int = 16) -> None:
        from waitress.server import create_server

        self.app = app
        try:
            self.server = create_server(
                app,
                host=host,
                port=port,
                threads=threads,
                ident="gait-station",
                # Read ahead on busy channels so a tablet that goes away is noticed while its
                # stream is running (waitress.client_disconnected), not only at the next write.
                channel_request_lookahead=2,
                clear_untrusted_proxy_headers=True,
                expose_tracebacks=False,
            )
        except OSError as exc:
            raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        self._thread: threading.Thread | None = None
        self._stopped = False

    @property
    def host(self) -> str:
        return str(self.server.effective_host)

    @property
    def port(self) -> int:
        return int(self.server.effective_port)

    @property
    def url(self) -> str:
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    def _shutdown_event(self) -> threading.Event:
        return self.app.extensions.setdefault("gait_shutdown", threading.Event())

    def serve_forever(self) -> None:
        self.server.run()

    def start(self) -> DashboardServer:
        self._thread = threading.Thread(target=self._run_quietly, name="waitress", daemon=True)
        self._thread.start()
        return self

    def _run_quietly(self) -> None:
        try:
            self.server.run()
        except (OSError, ValueError):  # sockets closed under the loop by stop()
            if not self._stopped:
                raise

    def stop(self, timeout: float = 5.0) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._shutdown_event().set()  # streams end within ~0.5 s, freeing their threads
        srv = self.server
        for _ in range(5):
            channels = list(srv._map.values())
            if not channels:
                break
            for ch in channels:
                try:
                    ch.close()  # the listening socket, the trigger and each client channel
                except Exception:
                    log.debug("closing %r failed", ch, exc_info=True)
        srv.task_dispatcher.shutdown(timeout=timeout)
        if self._thread is not None:
            self._thread.join(timeout)


def main(args: argparse.Namespace) -> int:
    from device.config import load_config
    from device.station import Station
    from web.app import create_app

    cfg = load_config(args.config, args.data_dir)
    if args.host:
        cfg.web.host = args.host
    if args.port is not None:
        if not 1 <= args.port <= 65535:
            raise ConfigError(f"--port must be between 1 and 65535; got {args.port}")
        cfg.web.port = args.port
    source = args.source or cfg.camera.source or "auto"

    station = Station(cfg, source_spec=source)
    station.start()
    try:
        app = create_app(station, cfg)
        server = DashboardServer(app, cfg.web.host, cfg.web.port, cfg.web.threads)
    except BaseException:
        station.close()
        raise

    def _on_signal(signum: int, _frame: Any) -> None:
        log.info("%s received: shutting down", signal.Signals(signum).name)
        app.extensions.setdefault("gait_shutdown", threading.Event()).set()
        raise SystemExit(0)  # waitress's loop catches it and drains its threads

    old = {s: signal.signal(s, _on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    log.info("dashboard on %s (data in %s, camera %s)", server.url, cfg.data_dir, source)
    try:
        server.serve_forever()  # READY=1 and watchdog pings come from the station (device/station.py)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        server.stop()
        station.close()
        log.info("stopped")
    return 0
