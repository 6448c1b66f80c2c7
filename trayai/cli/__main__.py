"""``python -m trayai.cli`` (what the autostart entries and the tests run)."""

import sys

from trayai.cli import main

sys.exit(main())
