"""`python -m optviz export ...`: see optviz/cli.py, or `python -m optviz export --help`."""

import sys

from optviz.cli import main

if __name__ == "__main__":
    sys.exit(main())
