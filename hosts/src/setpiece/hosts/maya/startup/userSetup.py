"""setpiece's Maya startup file.

``setpiece env maya`` / ``setpiece launch maya`` put this folder on PYTHONPATH; Maya runs
every ``userSetup.py`` it finds there at startup (GUI and ``maya.standalone``). If your
studio already ships a ``userSetup.py`` that shadows this one, add these lines to it.
Never raises: a problem is one line in the script editor and Maya starts as usual.
"""

try:
    import setpiece.hosts.maya

    setpiece.hosts.maya.bootstrap()
except Exception as exc:  # never break Maya's startup
    import sys

    print(f"setpiece: not installed in Maya: {' '.join(str(exc).split())}", file=sys.stderr)
