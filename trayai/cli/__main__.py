"""``python -m trayai.cli``: what the tests run, and the menu and login entries lacking a script."""

import sys

from trayai.cli import main

sys.exit(main())
