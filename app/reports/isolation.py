"""Run the parser in a forked child with memory, CPU and wall-clock limits (`app.isolation`).

The parser's own errors (ReportError) come back from the child as they were raised; a child
stopped by its limits becomes ReportError `timeout`, `too_large` or `damaged`.
"""

from __future__ import annotations

from collections.abc import Callable

from app.isolation import MB, TOO_LARGE, extend_limits, report_progress
from app.isolation import run_isolated as _run_isolated

from .errors import ReportError

__all__ = ["MB", "TOO_LARGE", "extend_limits", "report_progress", "run_isolated"]


def run_isolated(
    func: Callable[[bytes], dict],
    data: bytes,
    *,
    timeout: float,
    memory_mb: int,
    progress: Callable[[int, int], None] | None = None,
    max_timeout: float | None = None,
    max_memory_mb: int | None = None,
) -> dict:
    """func(data) in a forked child; ReportError('timeout' / 'too_large' / …) on failure.

    `progress(done, total)` is called here for each `report_progress` in the child; the child
    may raise `timeout` and `memory_mb` with `extend_limits`, up to `max_timeout` and
    `max_memory_mb` (by default it cannot).
    """
    return _run_isolated(
        func,
        data,
        timeout=timeout,
        memory_mb=memory_mb,
        progress=progress,
        max_timeout=max_timeout,
        max_memory_mb=max_memory_mb,
        error=ReportError,
    )
