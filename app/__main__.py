"""``python -m app`` runs the ``vht`` command line."""

import sys

from app.cli import main

sys.exit(main())
