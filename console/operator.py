"""Who is acting: the operator's login name, recorded in the audit log with every change."""

from __future__ import annotations

import getpass
import os


def operator_name() -> str:
    for variable in ("STATION_OPERATOR", "SUDO_USER"):
        if os.environ.get(variable):
            return os.environ[variable]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid-{os.getuid()}"
