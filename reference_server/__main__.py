"""``python -m reference_server``: the same command line as ``reference-gateway``."""

import sys

from reference_server.cli import main

sys.exit(main())
