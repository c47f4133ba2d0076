"""A network namespace joined to this one by a veth pair, for the tests that cut a station's link to its ledger
without a word (the pair's outer end set down: the cable pulled). Root and `ip` are needed; without them the test
is skipped with the reason."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@dataclass(frozen=True)
class Pair:
    namespace: str
    outer: str  # the end in this namespace: set it down to cut the link
    subnet: str  # a /30: this end is .1, the namespace's .2

    @property
    def here(self) -> str:
        return f"{self.subnet}.1"

    def cut(self) -> None:
        ip("link", "set", self.outer, "down")

    def mend(self) -> None:
        ip("link", "set", self.outer, "up")


@contextmanager
def namespace_pair(tag: str, third_octet_base: int) -> Iterator[Pair]:
    """A namespace `ktp<tag>-PID` with its end of a veth pair up at SUBNET.2, and this end up at SUBNET.1; both
    removed at the end. `third_octet_base` keeps two tests of one process on different subnets."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("cutting a link needs root and `ip` (network namespaces)")
    pid = os.getpid()
    pair = Pair(f"ktp{tag}-{pid}", f"k{tag}o{pid}", f"10.{third_octet_base}.{pid % 250 + 1}")
    inner = f"k{tag}i{pid}"
    ip("netns", "add", pair.namespace)
    try:
        ip("link", "add", pair.outer, "type", "veth", "peer", "name", inner)
        ip("link", "set", inner, "netns", pair.namespace)
        ip("addr", "add", f"{pair.subnet}.1/30", "dev", pair.outer)
        ip("link", "set", pair.outer, "up")
        ip("-n", pair.namespace, "addr", "add", f"{pair.subnet}.2/30", "dev", inner)
        ip("-n", pair.namespace, "link", "set", inner, "up")
        ip("-n", pair.namespace, "link", "set", "lo", "up")
        yield pair
    finally:
        subprocess.run(["ip", "link", "del", pair.outer], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "del", pair.namespace], capture_output=True, check=False)
