"""Command-line values checked before any work starts, and outputs written whole.

A number out of range or an output path that cannot be written is refused when the command
starts, with one line naming the option, not after minutes of analysis on a Pi. An output is
written to a temporary file next to it and renamed over it, so a full disk never leaves half a
file, nor destroys the one that was there.
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import stat
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from device.errors import InputError


def number(what: str, lo: float, hi: float, *, integer: bool = False) -> Callable[[str], float]:
    """An argparse ``type``: a finite number (whole when ``integer``) from ``lo`` to ``hi``."""

    def parse(text: str) -> float:
        try:
            v: float = int(text) if integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not {'a whole number' if integer else 'a number'}"
            ) from None
        if not math.isfinite(v) or not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"{what} must be between {lo:g} and {hi:g}, got {text}")
        return v

    return parse


def _writable_folder(option: str, folder: Path, make_parents: bool) -> Path:
    """The folder the file goes in (or, with ``make_parents``, its nearest existing ancestor)."""
    if make_parents:
        missing = folder
        while not missing.exists() and missing != missing.parent:
            missing = missing.parent
        folder = missing
    elif not folder.exists():
        raise InputError(f"{option}: folder {folder} does not exist")
    if not folder.is_dir():
        raise InputError(f"{option}: {folder} is a file, not a folder")
    try:
        # creating a file is the only test that sees read-only mounts, ACLs and root alike
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise InputError(f"{option}: cannot write in folder {folder} ({exc.strerror or exc})") from None
    return folder


def check_output(option: str, path: Path, *, make_parents: bool = False) -> None:
    """InputError naming ``option`` unless a file can be written at ``path``. A missing folder
    is refused unless ``make_parents`` (the writer creates it)."""
    if path.is_dir():
        raise InputError(f"{option}: {path} is a folder; give a file name")
    if path.exists() and not path.is_file():  # a device or pipe (/dev/null): written in place
        if not os.access(path, os.W_OK):
            raise InputError(f"{option}: cannot write {path} (permission denied)")
        return
    _writable_folder(option, path.parent, make_parents)


def check_outputs(
    outputs: Mapping[str, Path | None], *, inputs: Sequence[Path] = (), make_parents: bool = False
) -> None:
    """:func:`check_output` for each given output (option → path), and that none of them is
    an input or another output: a write there would destroy what the command reads or writes."""
    seen: dict[Path, str] = {}
    ins = {_identity(p): p for p in inputs}
    for option, path in outputs.items():
        if path is None:
            continue
        key = _identity(path)
        if key in ins:
            raise InputError(f"{option}: {path} is the input; writing there would overwrite it")
        if key in seen:
            raise InputError(f"{option}: {path} is also given to {seen[key]}; give each output its own file")
        seen[key] = option
        check_output(option, path, make_parents=make_parents)


def _identity(path: Path) -> Path:
    return path.expanduser().resolve()


@contextmanager
def written_whole(path: Path) -> Iterator[Path]:
    """A temporary path next to ``path`` to write to, renamed over ``path`` when the block ends
    without an error and removed when it raises. A device or pipe (``/dev/null``) is written in
    place: it cannot be renamed over."""
    if path.exists() and not path.is_file():
        yield path
        return
    target = path.resolve()  # a symlink's target is replaced, not the link
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    # 0o666 through the umask: the mode a plain open() would give (mkstemp's 0o600 would hide a
    # report from the clinic's other users)
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        if target.exists():
            os.chmod(tmp, stat.S_IMODE(target.stat().st_mode))
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with suppress(OSError):
            tmp.unlink()
        raise
