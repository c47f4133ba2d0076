"""`scripts/ssh-check`: the supervisor's console through a real SSH connection (a throw-away sshd on 127.0.0.1).

Run where sshd is installed and `STATION_SSH_CHECK=1` (`.ci/run` sets it when it finds sshd)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(os.environ.get("STATION_SSH_CHECK") != "1", reason="STATION_SSH_CHECK=1 where sshd is installed")
def test_the_supervisor_over_a_real_ssh_connection():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "ssh-check")], capture_output=True, text=True,
                          timeout=240)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    if "skipped:" in done.stdout:  # no sshd, ssh or ssh-keygen here: the check did not run, and says so
        pytest.skip(done.stdout.strip())
    assert done.stdout.startswith("ssh-check: ok:"), done.stdout
