"""What the web app may ask of the station: the one seam between ``web/`` and ``device/``.

``web/`` reaches the station only through :class:`StationAPI` (``web.context.station()``).
:class:`device.station.Station` implements it, and so does the web tests' ``FakeStation``;
``tests/web/test_station_contract.py`` runs the same checks against both, so a fake that drifts
from the real station (a different return type, a missing method) fails there first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from device.store import Store

# (sequence number, JPEG bytes) of the newest preview frame: a viewer skips a seq it has sent.
Preview = tuple[int, bytes]


class StatusSubscription(Protocol):
    """A bounded queue of status updates for one viewer; ``None`` means the station closed it."""

    def get(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next update; raises ``queue.Empty`` after ``timeout``."""
        ...

    def get_nowait(self) -> dict[str, Any] | None: ...

    def close(self) -> None:
        """Stop receiving updates (idempotent)."""
        ...


class StationAPI(Protocol):
    """The station as the dashboard and the HTTP API see it."""

    @property
    def store(self) -> Store:
        """Runners, sessions, keypoints, analyses and evidence frames."""
        ...

    # -- what the dashboard shows -----------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """The live status: ``state``, ``session_id``, ``elapsed_s``, ``remaining_s``,
        ``cadence_spm``, ``strides``, ``quality_hints`` (a camera error first, then each live
        hint once in ``device.gait.live.HINT_WORDS``' words), ``message``, ``inference_fps``,
        ``frame_t``, ``armed`` (a run is prepared), ...; a fresh dict per call."""
        ...

    def clock(self) -> float:
        """Now, on the clock of ``status()['frame_t']``."""
        ...

    def subscribe(self) -> StatusSubscription: ...

    def latest_preview(self) -> Preview | None: ...

    def latest_rear_preview(self) -> Preview | None:
        """The rear camera's preview; None without a rear camera (or before its first frame)."""
        ...

    def has_rear_camera(self) -> bool: ...

    def prepared_runner_id(self) -> int | None:
        """The runner of the prepared next run (state ``ready``), None when nothing is prepared
        or the prepared run has no runner."""
        ...

    # -- capture commands -------------------------------------------------------------------

    def prepare(
        self,
        runner_id: int | None = None,
        runner: dict[str, Any] | None = None,
        session: dict[str, Any] | None = None,
        height_cm: float | None = None,
    ) -> dict[str, Any]:
        """Enter the next run's details (state ``ready``); returns them as validated.
        ``height_cm`` updates an existing runner's height (restored if the run never starts)."""
        ...

    def unprepare(self) -> None: ...

    def start_capture(
        self,
        runner_id: int | None = None,
        runner: dict[str, Any] | None = None,
        session: dict[str, Any] | None = None,
        height_cm: float | None = None,
    ) -> int | None:
        """The new session's id, or None when ignored (a capture or analysis is running).
        Without arguments the prepared run starts."""
        ...

    def stop_capture(self) -> int | None:
        """The stopped session's id (it is analysed next), or None when nothing was captured."""
        ...

    def cancel_capture(self) -> int | None:
        """The abandoned (deleted) session's id, or None when nothing was captured."""
        ...

    # -- printing and the report ------------------------------------------------------------

    def print_summary(self, session_id: int) -> None:
        """Print the receipt summary; UserError (PrintError) when it cannot."""
        ...

    def print_report(self, session_id: int) -> str:
        """Print the full report through CUPS; returns the CUPS job id."""
        ...

    def report_pdf(self, session_id: int) -> bytes:
        """The full report as PDF bytes; UserError when the session has no analysis."""
        ...

    def comparison_pdf(self, session_a: int, session_b: int) -> bytes:
        """The before (a) / after (b) comparison as PDF bytes; UserError without analyses."""
        ...

    def print_comparison(self, session_a: int, session_b: int) -> str:
        """Print the comparison through CUPS; returns the CUPS job id (PrintError when not)."""
        ...

    # -- corrections and the live view's controls -------------------------------------------

    def reanalyse(self, session_id: int, corrections: dict[str, Any], created_by: str, note: str = "") -> int:
        """Analyse a finished session again with a clinician's corrections
        (device.corrections.Corrections fields); returns the new analysis id. The earlier
        analyses stay in the session's history. UserError while a capture runs."""
        ...

    def set_metronome(self, spm: float | None) -> float:
        """Start the buzzer metronome at ``spm`` steps/min (None/0: stop); returns the rate
        now running. UserError without a buzzer, InputError outside its range."""
        ...
