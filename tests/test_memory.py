"""Server memory after many logins at once: scrypt buffers must not stay in the process."""

from __future__ import annotations

import platform
import sys
import threading
from pathlib import Path

import pytest
from conftest import ADMIN_PASSWORD, Server

from aios_records.heap import limit_heap_retention

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads VmRSS from /proc")

# Each login hashes with scrypt and a 16 MiB buffer. Without the bound on
# concurrent hashes and the pinned malloc thresholds, three rounds of 48
# logins at once left the server at 771 MiB, while an idle one has about
# 80 MiB. The bound leaves room for a larger idle size elsewhere.
MAX_RSS_AFTER_LOGINS_MIB = 200
CONCURRENT_LOGINS = 48


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS in /proc/{pid}/status")


def log_in_at_once(server: Server, count: int) -> list[int]:
    start = threading.Barrier(count)
    statuses: list[int] = []

    def log_in() -> None:
        start.wait()
        statuses.append(server.login().status)

    threads = [threading.Thread(target=log_in) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_heap_retention_pinned_on_glibc():
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt's thresholds are glibc's")
    assert limit_heap_retention() is True


def test_concurrent_logins_release_memory(make_server):
    server = make_server("--admin-password", ADMIN_PASSWORD,
                         "--max-sessions", str(3 * CONCURRENT_LOGINS))
    idle = rss_mib(server.process.pid)

    for round_number in range(3):
        statuses = log_in_at_once(server, CONCURRENT_LOGINS)
        assert statuses == [200] * CONCURRENT_LOGINS, f"round {round_number}"

    after = rss_mib(server.process.pid)
    assert after < MAX_RSS_AFTER_LOGINS_MIB, f"RSS {after:.0f} MiB after logins, {idle:.0f} idle"
