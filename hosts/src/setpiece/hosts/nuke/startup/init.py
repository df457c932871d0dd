"""setpiece's Nuke init.py: Nuke runs init.py from every NUKE_PATH folder, in every mode.

In terminal mode (``nuke -t``) there is no menu.py, so setpiece installs here; in the
GUI it waits for menu.py, where menus can be built.
"""

import nuke

import setpiece.hosts.nuke

if not nuke.env.get("gui"):
    setpiece.hosts.nuke.bootstrap()
