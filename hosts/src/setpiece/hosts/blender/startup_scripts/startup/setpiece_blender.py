"""setpiece's Blender startup module (found through ``BLENDER_USER_SCRIPTS``).

Blender imports every module in ``<scripts>/startup/`` and calls its ``register()``.
``setpiece launch blender`` points ``BLENDER_USER_SCRIPTS`` at the folder above this one;
a studio with its own scripts folder copies (or links) this file into its ``startup/``.
Never raises: a problem is one line in the console and Blender starts as usual.
"""

import sys


def register():
    try:
        from setpiece.hosts import install
        from setpiece.hosts.blender import BlenderHost

        install(BlenderHost())
    except Exception as exc:  # never break Blender's startup
        print(f"setpiece: not installed in Blender: {' '.join(str(exc).split())}", file=sys.stderr)


def unregister():
    try:
        from setpiece.hosts.blender.host import BlenderHost

        BlenderHost().uninstall()
    except Exception:
        pass
