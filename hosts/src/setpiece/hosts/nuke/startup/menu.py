"""setpiece's Nuke menu.py: Nuke runs menu.py from every NUKE_PATH folder once the GUI exists."""

import setpiece.hosts.nuke

setpiece.hosts.nuke.bootstrap()
