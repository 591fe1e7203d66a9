"""``python -m skdeepsea``: the same as the ``skdeepsea`` command."""

import sys

from .cli import main

sys.exit(main())
