"""posekit.files.process_alive: a finished child is dead, this process and unknowns alive."""

import os
import subprocess
import sys

from posekit.files import process_alive


def test_this_process_is_alive_and_a_reaped_child_is_not():
    assert process_alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: its pid no longer names a process (until reused)
    assert not process_alive(child.pid) or os.name == "nt"


def test_unsure_means_alive():
    assert process_alive(0) and process_alive(-5)
