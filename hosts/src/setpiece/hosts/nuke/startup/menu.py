"""setpiece's Nuke menu.py: Nuke runs menu.py from every NUKE_PATH folder once the GUI exists.

Never raises: a problem is one line in the console and Nuke starts as usual.
"""

try:
    import setpiece.hosts.nuke

    setpiece.hosts.nuke.bootstrap()
except Exception as exc:  # never break Nuke's startup
    import sys

    print(f"setpiece: not installed in Nuke: {' '.join(str(exc).split())}", file=sys.stderr)
