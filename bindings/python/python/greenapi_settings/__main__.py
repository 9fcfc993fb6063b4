"""`python -m greenapi_settings ARGS`: the `greenapi-settings` command line."""

import sys

from greenapi_settings.cli import main

if __name__ == "__main__":
    sys.exit(main())
