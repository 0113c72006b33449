"""Keep glibc's malloc from holding on to freed large buffers in a server process.

glibc serves an allocation of at least M_MMAP_THRESHOLD bytes (128 KiB at
start) with its own mmap and unmaps it on free. But the first time such a
buffer is freed, glibc raises the threshold to its size (up to 32 MiB) and
the trim threshold to twice that. Later buffers of that size then come from
the per-thread arenas, and their memory stays in the process after free.
Each scrypt hash of a login takes a 16 MiB buffer, so after logins in many
threads every arena kept 16 to 48 MiB. In bench/soak.py with 64 clients on
SQLite the server held about 700 MiB, and malloc_stats() counted about 35 MiB
of it in use.

Setting either threshold explicitly turns that adjustment off (mallopt(3)),
so `limit_heap_retention` pins both at glibc's starting values.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger("aios_records.heap")

# Option numbers from glibc's <malloc.h>.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
# glibc's starting values of both thresholds.
MMAP_THRESHOLD_BYTES = 128 * 1024
TRIM_THRESHOLD_BYTES = 128 * 1024


def limit_heap_retention() -> bool:
    """Pin glibc's mmap and trim thresholds; return False where libc has no mallopt.

    Call it once at process start, before the server threads allocate. The
    thresholds are glibc's, so a C library without mallopt has none to pin.
    """
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        log.debug("no mallopt in the C library %s; malloc thresholds left as they are", name)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # mallopt returns 1 on success and 0 on error.
    pinned = (mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
              and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1)
    if not pinned:
        log.warning("mallopt rejected the malloc thresholds; freed large buffers may "
                    "stay in the process")
    return pinned
