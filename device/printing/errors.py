"""Printing errors: one line for the person at the station, saying what to check."""

from __future__ import annotations

from device.errors import UserError


class PrintError(UserError):
    """A print did not happen: printer absent or off, out of paper, CUPS down, queue missing."""
