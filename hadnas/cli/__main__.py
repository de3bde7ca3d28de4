"""``python -m hadnas.cli``."""

import sys

from hadnas.cli import main

sys.exit(main())
