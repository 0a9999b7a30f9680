"""``python -m gateway_contracts``: the same command line as ``gateway-contracts``."""

import sys

from gateway_contracts.cli import main

sys.exit(main())
