"""The capture controller (states, timer, live loop) and what it needs: frame spool, live view
helpers and the optional rear camera. cv2 is imported only when frames are encoded."""

from device.capture.controller import (
    ANALYSING,
    CAPTURING,
    DONE,
    FAILED,
    IDLE,
    READY,
    STATES,
    CaptureController,
    SessionRequest,
    Subscription,
)

__all__ = [
    "ANALYSING",
    "CAPTURING",
    "DONE",
    "FAILED",
    "IDLE",
    "READY",
    "STATES",
    "CaptureController",
    "SessionRequest",
    "Subscription",
]
