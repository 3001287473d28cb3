"""``python -m etl_service`` runs the CLI."""

import sys

from etl_service.cli import main

sys.exit(main())
