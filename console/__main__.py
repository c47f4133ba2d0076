"""`python -m console`: the station's command line, as `station`."""

import sys

from console.cli import main

sys.exit(main())
