"""``python -m simulator.cli ARGS``: the same as the ``benefit-sim`` command."""

import sys

from simulator.cli import main

sys.exit(main())
