"""setpiece's Maya startup file.

``setpiece env maya`` / ``setpiece launch maya`` put this folder on PYTHONPATH; Maya runs
every ``userSetup.py`` it finds there at startup (GUI and ``maya.standalone``). If your
studio already ships a ``userSetup.py`` that shadows this one, add these two lines to it.
"""

import setpiece.hosts.maya

setpiece.hosts.maya.bootstrap()
