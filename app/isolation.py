"""Run work on untrusted bytes in a forked child with memory, CPU and wall-clock limits.

A hostile or broken PDF (a Flate stream inflating to gigabytes, a content stream that loops)
must cost the caller at most `timeout` seconds and `memory_mb` of memory, never its process:
the report parser (`app.reports.parse_isolated`) and the page renderer
(`app.rendering.render_pages_isolated`) run here, so that a worker running jobs one after the
other in one process survives any upload. Work that turns out to need more (OCR of a scan)
asks for it from inside the child with `extend_limits`, up to the `max_timeout` and
`max_memory_mb` its caller allowed.

The child answers through a pipe in frames (a 4-byte big-endian length, then a pickle): while it
works, any number of `("progress", done, total)` and `("deadline", seconds)`, then one
`("ok", result)` or `("error", code, message)`. Code running in the child sends the first two
with `report_progress` and `extend_limits`, which do nothing in any other process.
"""

from __future__ import annotations

import contextlib
import faulthandler
import math
import os
import pickle
import resource
import select
import signal
import struct
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

TOO_LARGE = "the file is too large or too complex to read"
MB = 1024 * 1024

_HEADER = struct.Struct(">I")


class IsolationError(Exception):
    """Isolated work that failed: `code` is `timeout`, `too_large` or `damaged`."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message or code

    def __reduce__(self) -> tuple:
        # Keeps the code and message when the error crosses the pipe.
        return (type(self), (self.code, self.message))


@dataclass(frozen=True, slots=True)
class _Limits:
    memory_mb: int
    max_memory_mb: int
    timeout: float
    max_timeout: float


@dataclass(frozen=True, slots=True)
class _Parent:
    """The child's end of the pipe, and what its caller allowed it."""

    write_fd: int
    limits: _Limits
    base_memory: int  # address space inherited from the parent, on top of which budgets count

    def send(self, message: tuple) -> None:
        payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(_HEADER.pack(len(payload)) + payload)
        while view:
            view = view[os.write(self.write_fd, view) :]


_parent: _Parent | None = None  # set in the isolated child only


def report_progress(done: int, total: int) -> None:
    """In an isolated child, tell the parent that `done` of `total` steps are finished."""
    if _parent is not None:
        _parent.send(("progress", int(done), int(total)))


def extend_limits(*, seconds: float | None = None, memory_mb: int | None = None) -> None:
    """In an isolated child, ask for `seconds` from the start and `memory_mb` (up to the max)."""
    if _parent is None:
        return
    limits = _parent.limits
    if memory_mb is not None:
        granted_mb = min(memory_mb, limits.max_memory_mb)
        _raise_soft_limit(resource.RLIMIT_AS, _parent.base_memory + granted_mb * MB)
    if seconds is not None:
        granted = min(float(seconds), limits.max_timeout)
        if granted > limits.timeout:
            # Work that earns more time may keep every core busy (OCR does), so the CPU
            # backstop grows by the cores as well as by the seconds.
            _raise_soft_limit(resource.RLIMIT_CPU, math.ceil(granted) * (os.cpu_count() or 1) + 1)
        _parent.send(("deadline", float(seconds)))


def _raise_soft_limit(kind: int, soft: int) -> None:
    current, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    if current != resource.RLIM_INFINITY and soft > current:
        resource.setrlimit(kind, (soft, hard))


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


def _limit(limits: _Limits, base_memory: int) -> None:
    # RLIMIT_AS counts address space, and the child inherits the parent's; the budget is what
    # the parse may add on top, so a large host process does not starve every parse. The hard
    # limits are what extend_limits may raise the soft ones to.
    _set_limit(
        resource.RLIMIT_AS,
        base_memory + limits.memory_mb * MB,
        base_memory + limits.max_memory_mb * MB,
    )
    # The CPU limit is the backstop if the parent's kill ever fails.
    cpu = math.ceil(limits.timeout) + 1
    max_cpu = math.ceil(limits.max_timeout) * (os.cpu_count() or 1) + 2
    _set_limit(resource.RLIMIT_CPU, cpu, max(cpu + 1, max_cpu))
    _set_limit(resource.RLIMIT_CORE, 0, 0)


def _child(
    func: Callable[[bytes], Any], data: bytes, write_fd: int, limits: _Limits, error: type
) -> None:
    global _parent
    status = 0
    try:
        # The parent stops the child (SIGKILL) when it must: a warm shutdown signalled to the
        # whole process group lets the job finish, and the job timeout's alarm is the parent's.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        # A native library that aborts (pdfium on a failed allocation) is reported by the
        # parent as `too_large`: no traceback dump from the child.
        faulthandler.disable()
        _parent = _Parent(write_fd, limits, _inherited_address_space())
        try:
            _limit(limits, _parent.base_memory)
            message: tuple = ("ok", func(data))
        except error as exc:
            message = ("error", exc.code, exc.message)
        except MemoryError:
            message = ("error", "too_large", f"{TOO_LARGE} (out of memory)")
        except RecursionError:
            message = ("error", "damaged", "content nested too deeply")
        except Exception as exc:  # any other failure means an unreadable file
            message = ("error", "damaged", f"unreadable PDF ({type(exc).__name__})")
        _parent.send(message)
    except BaseException:  # the child must never return into the caller's code
        status = 1
    finally:
        os._exit(status)


def _frames(buffer: bytearray) -> list[tuple]:
    """Take the complete frames off the front of `buffer`."""
    messages = []
    while len(buffer) >= _HEADER.size:
        (size,) = _HEADER.unpack_from(buffer)
        if len(buffer) < _HEADER.size + size:
            break
        payload = bytes(buffer[_HEADER.size : _HEADER.size + size])
        del buffer[: _HEADER.size + size]
        messages.append(pickle.loads(payload))  # noqa: S301 - bytes from our own child
    return messages


def run_isolated(
    func: Callable[[bytes], T],
    data: bytes,
    *,
    timeout: float,
    memory_mb: int,
    progress: Callable[[int, int], None] | None = None,
    max_timeout: float | None = None,
    max_memory_mb: int | None = None,
    error: type = IsolationError,
) -> T:
    """func(data) in a forked child; `error('timeout' / 'too_large' / 'damaged', message)` on
    failure. `error` is a class taking (code, message) with `code` and `message` attributes:
    the child's own errors of that class come back as they were raised.

    `progress(done, total)` is called here for each `report_progress` in the child; the child
    may raise `timeout` and `memory_mb` with `extend_limits`, up to `max_timeout` and
    `max_memory_mb` (by default it cannot).
    """
    limits = _Limits(
        memory_mb=memory_mb,
        max_memory_mb=max(memory_mb, max_memory_mb or 0),
        timeout=timeout,
        max_timeout=max(timeout, max_timeout or 0.0),
    )
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns when forking a multi-threaded process because locks held by other
        # threads stay locked in the child; the child only runs the parser and exits.
        warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(read_fd)
        _child(func, data, write_fd, limits, error)
    os.close(write_fd)
    buffer = bytearray()
    answer: tuple | None = None
    started = time.monotonic()
    allowed = timeout
    finished = timed_out = False
    try:
        while True:
            remaining = started + allowed - time.monotonic()
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
            buffer += chunk
            for message in _frames(buffer):
                if message[0] == "progress":
                    if progress is not None:
                        progress(message[1], message[2])
                elif message[0] == "deadline":
                    allowed = max(allowed, min(message[1], limits.max_timeout))
                else:
                    answer = message
    finally:
        os.close(read_fd)
        if not finished:  # timed out, or the caller was interrupted: stop the child now
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if timed_out:
        raise error("timeout", f"reading the file took longer than {allowed:g} s")
    if os.WIFSIGNALED(status):
        if os.WTERMSIG(status) == signal.SIGXCPU:
            raise error("timeout", "reading the file used too much CPU time")
        raise error("too_large", f"{TOO_LARGE} (the reader was stopped)")
    if answer is None or buffer:
        raise error("damaged", "the reader ended without an answer")
    if answer[0] == "ok":
        return answer[1]
    raise error(answer[1], answer[2])
