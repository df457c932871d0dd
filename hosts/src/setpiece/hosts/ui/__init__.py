"""Qt.py tools of the in-app runtime (the ``setpiece`` menu's windows).

Nothing here imports Qt at module level: each tool imports ``Qt`` inside the function that
shows its window and falls back to the console when Qt is missing (``SETPIECE_NO_QT=1``
forces the fallback).
"""
