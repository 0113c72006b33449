"""Load generation (wrk, or a Python fallback), single large fetches and peak RSS readings."""

from __future__ import annotations

import http.client
import math
import os
import re
import shutil
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

# wrk's Lua script: every request carries the session and the paths rotate,
# so a scenario with many sample rows does not hit one row all the time.
WRK_SCRIPT = """\
local paths = {{ {paths} }}
local index = 0
wrk.headers["Authorization"] = "OAuth {session}"
request = function()
  index = index % #paths + 1
  return wrk.format("GET", paths[index])
end
"""

READ_CHUNK_BYTES = 1 << 20


@dataclass
class LoadResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx replies plus socket errors
    tool: str


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def _lua_string(text: str) -> str:
    if '"' in text or "\\" in text or "\n" in text:
        raise ValueError(f"path {text!r} cannot be written into the Lua script as is")
    return f'"{text}"'


def _to_ms(text: str) -> float:
    """Convert a wrk latency such as `850.00us`, `1.20ms` or `2.01s` to milliseconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    value, unit = match.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(port: int, paths: list[str], session: str, duration_s: float, connections: int,
            script_path: Path, core: int | None) -> LoadResult:
    script_path.write_text(WRK_SCRIPT.format(
        paths=", ".join(_lua_string(p) for p in paths), session=session))
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{max(1, round(duration_s))}s",
               "--timeout", "60s", "--latency", "-s", str(script_path),
               f"http://127.0.0.1:{port}"]
    if core is not None:
        command = ["taskset", "-c", str(core), *command]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    percentiles = dict(re.findall(r"^\s*(50|99)\.?0*%\s+(\S+)\s*$", output, re.MULTILINE))
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if set(percentiles) != {"50", "99"} or rate is None or total is None:
        raise RuntimeError(f"wrk output lacks the requests/sec or 50%/99% latency lines:\n{output}")
    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                              r"timeout (\d+)", output)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return LoadResult(float(rate.group(1)), _to_ms(percentiles["50"]), _to_ms(percentiles["99"]),
                      int(total.group(1)), errors, "wrk")


def run_python_load(port: int, paths: list[str], session: str, duration_s: float,
                    connections: int) -> LoadResult:
    """Load the server from threads of this process, one keep-alive connection each.

    A fallback for machines without wrk. Python's client costs far more CPU
    per request than wrk, so its figures are lower and only good for smoke runs.
    """
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + duration_s

    def worker(offset: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        local, index = [], offset
        headers = {"Authorization": f"OAuth {session}"}
        while time.perf_counter() < deadline:
            path = paths[index % len(paths)]
            index += 1
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                ok = 200 <= response.status < 400
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                ok = False
            local.append((time.perf_counter() - started) * 1000)
            if not ok:
                with lock:
                    errors[0] += 1
        connection.close()
        with lock:
            latencies.extend(local)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if not latencies:
        raise RuntimeError(f"no request to port {port} finished within {duration_s} s")
    ordered = sorted(latencies)
    return LoadResult(len(ordered) / elapsed, statistics.median(ordered),
                      ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)], len(ordered),
                      errors[0], "python")


@dataclass
class LargeFetch:
    first_byte_s: float
    last_byte_s: float
    body_bytes: int
    status: int


def fetch_large(port: int, path: str, session: str | None) -> LargeFetch:
    """Fetch `path` once, reading in chunks, and time the first and last byte of the body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    headers = {"Authorization": f"OAuth {session}"} if session else {}
    try:
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        first_byte = None
        size = 0
        while chunk := response.read1(READ_CHUNK_BYTES):
            if first_byte is None:
                first_byte = time.perf_counter() - started
            size += len(chunk)
        last_byte = time.perf_counter() - started
        return LargeFetch(first_byte or last_byte, last_byte, size, response.status)
    finally:
        connection.close()


def cpu_seconds(pid: int) -> float:
    """Return the user plus system CPU time process `pid` has used, in seconds.

    The kernel counts it in clock ticks (usually 10 ms), so it suits
    intervals of a second or more.
    """
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        # The command name in brackets may contain spaces, so split after it.
        fields = stat.read().rsplit(")", 1)[1].split()
    # Fields 14 and 15 of proc(5) (utime, stime) are 12 and 13 after the name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_mib(pid: int, name: str) -> float:
    """Return a memory field of /proc/PID/status, such as VmRSS or VmHWM, in MiB."""
    with open(f"/proc/{pid}/status", encoding="utf-8") as status:
        for line in status:
            if line.startswith(name + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{name} missing from /proc/{pid}/status")


class PeakRss:
    """The peak resident set size of one process over a measured interval, in MiB.

    Resets the kernel's peak (VmHWM) by writing 5 to /proc/PID/clear_refs,
    and reads VmHWM afterwards. Where that write is not allowed, a thread
    samples VmRSS every 20 ms instead, which can miss a short peak.
    """

    SAMPLE_INTERVAL_S = 0.02

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.method = "VmHWM"
        self._sampled = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PeakRss:
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w", encoding="ascii") as clear_refs:
                clear_refs.write("5")
        except OSError:
            self.method = "VmRSS sampled every 20 ms"
            self._sampled = status_mib(self.pid, "VmRSS")
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.SAMPLE_INTERVAL_S):
            try:
                self._sampled = max(self._sampled, status_mib(self.pid, "VmRSS"))
            except (OSError, RuntimeError):
                return

    def __exit__(self, *exc_info) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
        else:
            self._sampled = status_mib(self.pid, "VmHWM")

    @property
    def mib(self) -> float:
        return self._sampled
