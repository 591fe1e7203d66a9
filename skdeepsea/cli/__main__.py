"""``python -m skdeepsea.cli``: the same as the ``skdeepsea`` command."""

import sys

from . import main

sys.exit(main())
