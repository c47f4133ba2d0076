"""The supervisor's console (`station supervise`): the station live and read-only, in a process of its own.

It reads the database alone, through a read-only store: the state the printing process publishes (`live_state`),
the queue, the books, the untagged cards and the audit log. It never opens the printer nor takes its lock, and no
key prints, tags, unlocks, queues or changes the books. The one write is a pause/resume request (`P`), recorded
in the supervisor's name through a short-lived writable store and carried out by the process that holds the
printer. It reads again only when `PRAGMA data_version` says another connection committed; a page of a list reads
only the rows on screen. Made for SSH: no mouse tracking, no blinking, no animation, no clock ticking seconds.
"""

from screens.supervisor.app import SupervisorApp
from screens.supervisor.books import WatchBooks
from screens.supervisor.commands import SupervisorCommands
from screens.supervisor.dashboard import WatchDashboard
from screens.supervisor.help import SupervisorHelp
from screens.supervisor.lists import WatchAudit, WatchQueue, WatchUntagged
from screens.supervisor.paging import PagedScreen

__all__ = [
    "PagedScreen",
    "SupervisorApp",
    "SupervisorCommands",
    "SupervisorHelp",
    "WatchAudit",
    "WatchBooks",
    "WatchDashboard",
    "WatchQueue",
    "WatchUntagged",
]
