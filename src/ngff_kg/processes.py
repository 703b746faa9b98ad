"""Whether a process still runs: leftovers (a store being created, an enrich's temporary
files) carry the process id of their writer, and only a dead writer's are removed."""

from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (one that we may not signal exists too).

    >>> pid_alive(os.getpid())
    True
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
