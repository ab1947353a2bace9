"""Run the parser in a forked child with memory, CPU and wall-clock limits.

A hostile or broken PDF (a Flate stream inflating to gigabytes, a content stream that loops)
must cost the caller at most `timeout` seconds and `memory_mb` of memory, never its process.
"""

from __future__ import annotations

import contextlib
import math
import os
import pickle
import resource
import select
import signal
import time
import warnings
from collections.abc import Callable

from .errors import ReportError

TOO_LARGE = "the file is too large or too complex to read"


def _inherited_address_space() -> int:
    """Virtual memory the child starts with (it inherits the parent's mappings)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _set_limit(kind: int, soft: int, hard: int) -> None:
    # An unprivileged process may lower its limits but never raise the hard one.
    _, current_hard = resource.getrlimit(kind)
    if current_hard != resource.RLIM_INFINITY:
        soft, hard = min(soft, current_hard), min(hard, current_hard)
    resource.setrlimit(kind, (soft, hard))


def _limit(memory_mb: int, timeout: float) -> None:
    # RLIMIT_AS counts address space, and the child inherits the parent's; the budget is what
    # the parse may add on top, so a large host process does not starve every parse.
    limit = _inherited_address_space() + memory_mb * 1024 * 1024
    _set_limit(resource.RLIMIT_AS, limit, limit)
    cpu = math.ceil(timeout) + 1  # backstop if the parent's kill ever fails
    _set_limit(resource.RLIMIT_CPU, cpu, cpu + 1)
    _set_limit(resource.RLIMIT_CORE, 0, 0)


def _child(
    func: Callable[[bytes], dict], data: bytes, write_fd: int, memory_mb: int, timeout: float
) -> None:
    status = 0
    try:
        try:
            _limit(memory_mb, timeout)
            message: tuple = ("ok", func(data))
        except ReportError as exc:
            message = ("error", exc.code, exc.message)
        except MemoryError:
            message = ("error", "too_large", f"{TOO_LARGE} (out of memory)")
        except RecursionError:
            message = ("error", "damaged", "content nested too deeply")
        except Exception as exc:  # any other failure means an unreadable file
            message = ("error", "damaged", f"unreadable PDF ({type(exc).__name__})")
        payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(payload)
    except BaseException:  # the child must never return into the caller's code
        status = 1
    finally:
        os._exit(status)


def run_isolated(
    func: Callable[[bytes], dict], data: bytes, *, timeout: float, memory_mb: int
) -> dict:
    """func(data) in a forked child; ReportError('timeout' / 'too_large' / …) on failure."""
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns when forking a multi-threaded process because locks held by other
        # threads stay locked in the child; the child only runs the parser and exits.
        warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(read_fd)
        _child(func, data, write_fd, memory_mb, timeout)
    os.close(write_fd)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    finished = timed_out = False
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([read_fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                finished = True
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        if not finished:  # timed out, or the caller was interrupted: stop the child now
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if timed_out:
        raise ReportError("timeout", f"reading the file took longer than {timeout:g} s")
    if os.WIFSIGNALED(status):
        if os.WTERMSIG(status) == signal.SIGXCPU:
            raise ReportError("timeout", "reading the file used too much CPU time")
        raise ReportError("too_large", f"{TOO_LARGE} (the reader was stopped)")
    try:
        message = pickle.loads(b"".join(chunks))  # noqa: S301 - bytes from our own child
    except (pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise ReportError("damaged", "the reader ended without an answer") from exc
    if message[0] == "ok":
        return message[1]
    raise ReportError(message[1], message[2])
