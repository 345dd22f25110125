"""``python -m sentiment``: the command-line tools (local use; not part of the deployed functions)."""

import sys

from .cli import main

sys.exit(main())
