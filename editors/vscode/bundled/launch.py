"""Start the snippet daemon bundled with the extension (bundled/libs, made by `make vsix`).

The extension runs `python -I launch.py --stdio`: isolated mode, so neither PYTHONPATH, the user's site-packages
nor the current folder (an untrusted workspace) can put another module in the daemon's place. Its first line of
stderr says plainly when this Python cannot run it.
"""

import os
import sys

LIBS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "libs")

if not ((3, 11) <= sys.version_info[:2] <= (3, 14)):
    sys.exit(f"the bundled snippet daemon needs Python 3.11 to 3.14; {sys.executable} is {sys.version.split()[0]}")
if not os.path.isdir(os.path.join(LIBS, "snippet_daemon")):
    sys.exit(f"this build of the extension has no bundled daemon ({LIBS} is missing): build it with `make vsix`")
sys.path.insert(0, LIBS)

from snippet_daemon.cli import main  # noqa: E402

sys.exit(main())
