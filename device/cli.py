"""`gait-station` command line: a thin dispatcher; each subcommand lives with its concern.

Every subcommand module exposes ``add_arguments(parser)`` and ``main(args) -> int``. Errors
the user can fix (:class:`device.errors.UserError`) print one line on stderr and exit
non-zero, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import re
import sys
from typing import NoReturn

from device import __version__
from device.errors import UserError

# subcommand -> (module, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "run": ("web.serve", "run the station: camera, pose, buttons, dashboard (what systemd starts)"),
    "analyze": ("device.analyze", "analyse a video or keypoint CSV and write the analysis JSON"),
    "report": ("device.report.cli", "render (and print) the gait report of a session or analysis JSON"),
    "doctor": ("device.doctor", "check camera, model, GPIO, printer, disk and clock; say what to fix"),
    "set-pin": ("web.auth", "set the dashboard login PIN"),
    "validate": (
        "device.validation.cli",
        "score the gait engine against ground truth (synthetic and force-plate data)",
    ),
}


class OneLineParser(argparse.ArgumentParser):
    """A bad value or a missing argument is one line naming the command and the option, exit
    status 2: argparse's usage block pushes the reason off a small terminal. The subcommands'
    parsers are of this class too (argparse makes them of the parent's class)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {plain_error(message)} (try --help)\n")


def plain_error(message: str) -> str:
    """argparse's wording made plain: "argument --x: invalid float value: 'a'" → "--x: 'a' is
    not a number"."""
    message = re.sub(r"^argument ", "", message)
    message = re.sub(r"invalid float value: (.*)$", r"\1 is not a number", message)
    choice = re.search(r"invalid choice: (.*) \(choose from (.*)\)$", message)
    if choice:
        # trixie's Python 3.13 lists the choices unquoted, bookworm's 3.11 quoted: one wording on both
        listed = ", ".join(f"'{c.strip().strip(chr(39))}'" for c in choice.group(2).split(","))
        message = f"{message[: choice.start()]}{choice.group(1)} is not one of {listed}"
    return re.sub(r"invalid int value: (.*)$", r"\1 is not a whole number", message)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="gait-station",
        description="Treadmill running gait analysis station.",
    )
    parser.add_argument("--version", action="version", version=f"gait-station {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module_name, _import_error=None, _parser=p)
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:  # a part not installed on this machine: say so when it's used
            p.set_defaults(_import_error=str(exc))
            continue
        module.add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # said by the subcommand's parser, so the line names the subcommand
        (args._parser if args.command else parser).error(f"unrecognized arguments: {' '.join(extra)}")
    if not args.command:  # dest="command": None when no subcommand was given
        parser.print_help()
        return 2
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args._import_error:
        print(f"gait-station {args.command}: not available here ({args._import_error})", file=sys.stderr)
        return 2
    module = importlib.import_module(args._module)
    try:
        return int(module.main(args) or 0)
    except UserError as exc:
        print(f"gait-station {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"gait-station {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
