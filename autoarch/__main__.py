"""``python -m autoarch``: the ``autoarch`` command, where its script is not on the PATH
(a user install, a virtual environment not activated)."""

import sys

from autoarch.cli import main

sys.exit(main())
