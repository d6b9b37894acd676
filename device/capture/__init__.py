"""The capture: camera loop, recorder, live view, catch-up, session finisher, status hub and
the controller's state machine that composes them. cv2 is imported only when frames are
encoded."""

from device.capture.controller import (
    ANALYSING,
    CAPTURING,
    DONE,
    FAILED,
    IDLE,
    READY,
    STATES,
    CaptureController,
)
from device.capture.request import CaptureRequest
from device.capture.states import SessionStatus, StationState
from device.capture.status import Subscription

__all__ = [
    "ANALYSING",
    "CAPTURING",
    "DONE",
    "FAILED",
    "IDLE",
    "READY",
    "STATES",
    "CaptureController",
    "CaptureRequest",
    "SessionStatus",
    "StationState",
    "Subscription",
]
