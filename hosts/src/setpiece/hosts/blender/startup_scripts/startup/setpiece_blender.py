"""setpiece's Blender startup module (found through ``BLENDER_SYSTEM_SCRIPTS``).

Blender imports every module in ``<scripts>/startup/`` and calls its ``register()``.
``setpiece launch blender`` prepends the folder above this one to ``BLENDER_SYSTEM_SCRIPTS``
(the artist's own ``BLENDER_USER_SCRIPTS`` stays theirs). Before Blender 4.4 that variable
is one folder: with a studio's own value there, ``setpiece launch`` runs this file with
``blender --python setpiece_blender.py`` instead (it registers itself as ``__main__``); a
studio may also copy (or link) this file into its own ``startup/``.

Blender's Python ignores ``PYTHONPATH`` unless started with ``--python-use-system-env``
(``setpiece launch`` passes it); for a launcher that does not, the folders in
``SETPIECE_PYTHONPATH`` (printed by ``setpiece env blender``) are added to ``sys.path`` here.
Never raises: a problem is one line in the console and Blender starts as usual.
"""

import os
import sys


def _add_paths() -> None:
    import site

    for path in os.environ.get("SETPIECE_PYTHONPATH", "").split(os.pathsep):
        if path and path not in sys.path and os.path.isdir(path):
            site.addsitedir(path)  # with its .pth files (editable installs)


def register() -> None:
    try:
        _add_paths()
        from setpiece.hosts import install
        from setpiece.hosts.blender import BlenderHost

        install(BlenderHost())
    except Exception as exc:  # never break Blender's startup
        print(f"setpiece: not installed in Blender: {' '.join(str(exc).split())}", file=sys.stderr)


def unregister() -> None:
    try:
        from setpiece.hosts.blender.host import BlenderHost

        BlenderHost().uninstall()
    except Exception:
        pass


if __name__ == "__main__":  # blender --python setpiece_blender.py
    register()
