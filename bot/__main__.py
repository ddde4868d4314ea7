"""``python -m bot`` runs the ``briefbot`` command line."""

import sys

from bot.cli import main

sys.exit(main())
