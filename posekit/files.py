"""Files that several processes write: telling a killed writer's leftovers from a live one's.

Checkpoints, the SynthPose cache and downloads write under temporary names tagged with the
writer's process id and rename into place; a later writer removes only the leftovers of
processes that no longer run (``process_alive``).
"""

from __future__ import annotations

import os


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine; ``True`` when unsure (Windows, a
    process of another user, pid <= 0), so nothing of a live writer is ever removed."""
    if os.name == "nt" or pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it runs, as another user
        return True
    return True
