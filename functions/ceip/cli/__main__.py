"""`python -m ceip.cli` runs the `ceip` command."""

import sys

from ceip.cli import main

sys.exit(main())
