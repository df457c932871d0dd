"""setpiece's Houdini startup (Houdini runs every scripts/python/pythonrc.py found on HOUDINI_PATH at startup, in any Python version).

The package file ``setpiece.json`` (on HOUDINI_PACKAGE_DIR) adds this folder to
HOUDINI_PATH; ``bootstrap`` defers the work with hdefereval in the UI.
Never raises: a problem is one line in the console and Houdini starts as usual.
"""

try:
    import setpiece.hosts.houdini

    setpiece.hosts.houdini.bootstrap()
except Exception as exc:  # never break Houdini's startup
    import sys

    print(f"setpiece: not installed in Houdini: {' '.join(str(exc).split())}", file=sys.stderr)
