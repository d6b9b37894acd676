"""Output paths checked before any work, and outputs written whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from device.cli_args import check_output, written_whole
from device.errors import InputError


def test_a_failed_write_leaves_the_previous_file_and_no_litter(tmp_path: Path) -> None:
    out = tmp_path / "a.json"
    out.write_text("the earlier analysis")
    with pytest.raises(OSError), written_whole(out) as tmp:
        tmp.write_text("half of")
        raise OSError(28, "No space left on device")  # the disk fills mid-write
    assert out.read_text() == "the earlier analysis"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_a_whole_write_replaces_the_file_and_keeps_its_mode(tmp_path: Path) -> None:
    out = tmp_path / "a.json"
    out.write_text("old")
    out.chmod(0o640)
    with written_whole(out) as tmp:
        assert tmp != out  # the old file stays readable while the new one is written
        tmp.write_text("new")
    assert out.read_text() == "new" and out.stat().st_mode & 0o777 == 0o640


def test_a_new_file_gets_the_mode_open_would_give(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        with written_whole(tmp_path / "r.pdf") as tmp:
            tmp.write_bytes(b"%PDF")
    finally:
        os.umask(old)
    assert (tmp_path / "r.pdf").stat().st_mode & 0o777 == 0o644  # not mkstemp's 0o600


def test_missing_folders_are_allowed_when_the_writer_makes_them(tmp_path: Path) -> None:
    check_output("--pdf", tmp_path / "reports" / "2024" / "r.pdf", make_parents=True)
    with pytest.raises(InputError, match="does not exist"):
        check_output("--pdf", tmp_path / "reports" / "r.pdf")
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match=r"file is a file, not a folder"):
        check_output("--pdf", tmp_path / "file" / "sub" / "r.pdf", make_parents=True)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in a read-only folder")
def test_a_read_only_folder_is_refused(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(InputError, match=r"^--json: cannot write in folder .*ro \(Permission denied\)$"):
            check_output("--json", ro / "a.json")
    finally:
        ro.chmod(0o755)


def test_a_device_is_written_in_place(tmp_path: Path) -> None:
    check_output("--json", Path("/dev/null"))
    with written_whole(Path("/dev/null")) as tmp:
        assert tmp == Path("/dev/null")  # renaming over a device would replace it with a file
