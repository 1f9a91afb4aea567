"""Handing freed memory back to the system, so a long run's resident memory stays that of its
current step: Arrow's allocator (mimalloc) keeps freed pages for reuse, and glibc keeps freed heap
blocks of numpy and Python."""

from __future__ import annotations

import ctypes

import pyarrow as pa

from pinpoint_etl.core import tricks


def _libc_malloc_trim():
    try:
        return ctypes.CDLL(None).malloc_trim  # glibc; absent elsewhere
    except (AttributeError, OSError):
        return None


_MALLOC_TRIM = _libc_malloc_trim()


def release_arrow_memory() -> None:
    """Give back the pages Arrow's allocator holds for reuse (cheap: call it between steps)."""
    if tricks.enabled("release_memory"):
        pa.default_memory_pool().release_unused()


def release_memory() -> None:
    """:func:`release_arrow_memory`, and the C heap's free blocks (a process-wide trick: ``core.tricks``)."""
    if tricks.enabled("release_memory"):
        pa.default_memory_pool().release_unused()
        if _MALLOC_TRIM is not None:
            _MALLOC_TRIM(0)
