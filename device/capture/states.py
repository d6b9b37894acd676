"""The station's states and a session's statuses, as string enums.

They are ``str`` subclasses, so the dashboard's JSON, the LED patterns and the store's status
column keep seeing the plain words (``"capturing" == StationState.CAPTURING``).
"""

from __future__ import annotations

from enum import StrEnum


class StationState(StrEnum):
    """What the station is doing (the capture controller's state machine)::

        idle ──arm──▶ ready ──start──▶ capturing ──stop / timer / end of video──▶ analysing ──▶ done
          ▲                               │  ╲ cancel ──▶ idle/ready                      ╲──▶ failed
          └──────── start again from idle, ready, done or failed ◀── camera failure ──▶ failed

    ``countdown`` is only announced to listeners (LED, beeper) while the state is
    ``capturing`` and the countdown runs; ``analysing`` covers the catch-up inference and the
    gait analysis. ``failed`` also ends a capture whose recording was analysed but cannot stand
    as a success: the camera failed mid-run, or nobody was seen (nothing measured); the message
    says which in one line, and the session keeps its analysis.
    """

    IDLE = "idle"
    READY = "ready"
    COUNTDOWN = "countdown"
    CAPTURING = "capturing"
    ANALYSING = "analysing"
    DONE = "done"
    FAILED = "failed"


#: States from which a new capture may start.
CAN_START = frozenset({StationState.IDLE, StationState.READY, StationState.DONE, StationState.FAILED})


class SessionStatus(StrEnum):
    """A stored session's status (the store's ``sessions.status`` column)."""

    CAPTURING = "capturing"
    ANALYSING = "analysing"
    DONE = "done"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
