"""`python -m device` is `gait-station run` (what systemd starts)."""

import sys

from device.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
