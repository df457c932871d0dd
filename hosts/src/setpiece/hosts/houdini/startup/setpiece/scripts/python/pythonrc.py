"""setpiece's Houdini startup (Houdini runs every scripts/python/pythonrc.py found on HOUDINI_PATH at startup, in any Python version).

The package file ``setpiece.json`` (on HOUDINI_PACKAGE_DIR) adds this folder to
HOUDINI_PATH; ``bootstrap`` defers the work with hdefereval in the UI.
"""

import setpiece.hosts.houdini

setpiece.hosts.houdini.bootstrap()
