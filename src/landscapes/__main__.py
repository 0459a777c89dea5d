"""`python -m landscapes audit PATH`: the same as the `landscapes` console script."""

import sys

from landscapes.cli import main

sys.exit(main())
