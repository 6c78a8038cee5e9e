"""`python -m optviz export ...`: see optviz/lab/cli.py, or `python -m optviz export --help`."""

import sys

from optviz.lab.cli import main

if __name__ == "__main__":
    sys.exit(main())
