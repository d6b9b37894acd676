"""`gait-station` parse errors: one line naming the subcommand and the option, exit status 2."""

from __future__ import annotations

import pytest

from device.cli import main as cli_main


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["analyze", "x.mp4", "--speed-kmh", "abc"],
            "gait-station analyze: --speed-kmh: 'abc' is not a number (try --help)",
        ),
        (
            ["analyze", "x.mp4", "--speed-kmh", "90"],
            "gait-station analyze: --speed-kmh: speed must be between 0.5 and 40, got 90 (try --help)",
        ),
        (
            ["analyze", "x.mp4", "--height-cm", "0"],
            "gait-station analyze: --height-cm: height must be between 50 and 250, got 0 (try --help)",
        ),
        (
            ["analyze", "x.mp4", "--threads", "1.5"],
            "gait-station analyze: --threads: '1.5' is not a whole number (try --help)",
        ),
        (
            ["analyze", "x.mp4", "--view", "up"],
            "gait-station analyze: --view: 'up' is not one of 'side', 'rear', 'front', 'auto' (try --help)",
        ),
        # an unknown option is named by the subcommand it was given to, not by "gait-station"
        (
            ["analyze", "x.mp4", "--fps", "-3"],
            "gait-station analyze: unrecognized arguments: --fps -3 (try --help)",
        ),
        (["analyze"], "gait-station analyze: the following arguments are required: INPUT (try --help)"),
        (["analyze", "x.mp4", "--json"], "gait-station analyze: --json: expected one argument (try --help)"),
        (
            ["report"],
            "gait-station report: the following arguments are required: SESSION_ID|ANALYSIS.json (try --help)",
        ),
        (["doctor", "extra"], "gait-station doctor: unrecognized arguments: extra (try --help)"),
        (
            ["run", "--port", "0"],
            "gait-station run: --port: port must be between 1 and 65535, got 0 (try --help)",
        ),
        (["run", "--port", "http"], "gait-station run: --port: 'http' is not a whole number (try --help)"),
        (
            ["validate", "--jobs", "0"],
            "gait-station validate: --jobs: jobs must be between 1 and 64, got 0 (try --help)",
        ),
        (
            ["validate", "--draws", "-1"],
            "gait-station validate: --draws: draws must be between 0 and 1000, got -1 (try --help)",
        ),
        (["--bogus"], "gait-station: unrecognized arguments: --bogus (try --help)"),
    ],
)
def test_a_parse_error_is_one_line(argv: list[str], line: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli_main(argv)
    assert info.value.code == 2
    out, err = capsys.readouterr()
    assert err == line + "\n" and out == ""


def test_an_unknown_subcommand_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli_main(["analyse", "x.mp4"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gait-station: COMMAND: 'analyse' is not one of 'run'")


@pytest.mark.parametrize(
    "argparse_says",
    [
        "argument --view: invalid choice: 'up' (choose from 'side', 'rear', 'front', 'auto')",  # 3.11
        "argument --view: invalid choice: 'up' (choose from side, rear, front, auto)",  # 3.13
    ],
)
def test_a_bad_choice_reads_the_same_on_every_python(argparse_says: str) -> None:
    """Bookworm's Python quotes argparse's choices, trixie's does not: the station's line is the
    same on both (the pi-check on trixie found it reading "one of side, rear, …")."""
    from device.cli import plain_error

    assert plain_error(argparse_says) == "--view: 'up' is not one of 'side', 'rear', 'front', 'auto'"


def test_help_is_still_the_full_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli_main(["analyze", "--help"])
    assert info.value.code == 0
    assert "--speed-kmh" in capsys.readouterr().out
