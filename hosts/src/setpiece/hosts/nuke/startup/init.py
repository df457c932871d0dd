"""setpiece's Nuke init.py: Nuke runs init.py from every NUKE_PATH folder, in every mode.

In terminal mode (``nuke -t``) there is no menu.py, so setpiece installs here; in the
GUI it waits for menu.py, where menus can be built (and reports a problem there, once).
Never raises: a problem is one line in the console and Nuke starts as usual.
"""

import nuke

if not nuke.env.get("gui"):
    try:
        import setpiece.hosts.nuke

        setpiece.hosts.nuke.bootstrap()
    except Exception as exc:  # never break Nuke's startup
        import sys

        print(f"setpiece: not installed in Nuke: {' '.join(str(exc).split())}", file=sys.stderr)
