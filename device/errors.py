"""Errors meant for the person at the station: one line, no traceback, says what to do."""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix (bad file, bad value, missing device). ``str()`` is the message."""

    exit_code = 2


class InputError(UserError):
    """The input (video, CSV, form value) cannot be used."""


class ConfigError(UserError):
    """The configuration file or a setting is wrong."""


class SourceError(UserError):
    """A frame source failed: camera unplugged, video unreadable, stream ended unexpectedly."""


class NoPersonError(InputError):
    """No runner was found in the input."""


class DiskFullError(UserError):
    """The station's disk is (nearly) full: a capture cannot start or cannot keep recording."""
