"""Run an application coroutine eagerly: no Task unless it really has to wait.

Theory of operation
-------------------
Most requests of a fast app never wait on anything: ``receive()`` finds the body
already buffered, ``send()`` writes to the transport and returns. Creating an
``asyncio.Task`` for them (and a trip through the loop's ready queue) is pure
overhead. ``start`` therefore steps the coroutine once, synchronously, in a fresh copy
of the current context. If it finishes, no task ever exists. If it suspends, it
yielded the future it waits on; a Task is created that *resumes* the coroutine from
exactly that point: ``_Resume`` first hands the already-yielded future to the Task
(so the Task waits on it as if it had been yielded from inside), then delegates every
further ``send``/``throw`` to the coroutine — the same protocol ``yield from`` uses.
Python 3.12's ``eager_start`` tasks do the same inside asyncio; this works on 3.11.
(The HTTP protocol calls ``start`` from a ``call_soon`` handle, after parsing: a
handle is a fraction of a Task's cost.)

Resource handling: the Task runs in the same context copy as the first step, so
context variables behave as in a normal task. Error handling: an exception raised in
the first step is returned to the caller's ``on_done``; later ones come from the task.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Coroutine, Generator
from types import CoroutineType
from typing import Any

OnDone = Callable[[BaseException | None], None]


class _Resume:
    """An awaitable that continues a coroutine which already yielded ``pending``."""

    __slots__ = ("_coro", "_pending")

    def __init__(self, coro: Coroutine[Any, Any, Any], pending: Any) -> None:
        self._coro = coro
        self._pending = pending

    def __await__(self) -> Generator[Any, Any, Any]:
        coro = self._coro
        pending = self._pending
        self._pending = None
        while True:
            try:
                value = yield pending
            except BaseException as exc:  # cancellation and thrown errors go to the app
                try:
                    pending = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
                continue
            try:
                pending = coro.send(value)
            except StopIteration as stop:
                return stop.value


async def _await(awaitable: Any) -> Any:
    return await awaitable


async def _continue(coro: Coroutine[Any, Any, Any], pending: Any) -> Any:
    return await _Resume(coro, pending)


def start(
    coro: Coroutine[Any, Any, Any],
    loop: asyncio.AbstractEventLoop,
    on_done: OnDone,
    tasks: set[asyncio.Task[Any]],
) -> None:
    """Run ``coro`` until it first suspends; if it does, continue it in a Task.

    ``on_done(exc)`` is called exactly once when the coroutine ends: with ``None`` if
    it returned, with the exception if it raised (KeyboardInterrupt and SystemExit
    propagate instead). A Task created here is kept in ``tasks`` until it ends.
    """
    if type(coro) is not CoroutineType:
        coro = _await(coro)  # any other awaitable: drive it through a coroutine
    context = contextvars.copy_context()
    try:
        pending = context.run(coro.send, None)
    except StopIteration:
        on_done(None)
        return
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        on_done(exc)
        return
    task = loop.create_task(_continue(coro, pending), context=context)
    tasks.add(task)
    task.add_done_callback(lambda t: _task_done(t, on_done, tasks))


def _task_done(task: asyncio.Task[Any], on_done: OnDone, tasks: set[asyncio.Task[Any]]) -> None:
    tasks.discard(task)
    if task.cancelled():
        on_done(asyncio.CancelledError())
    else:
        on_done(task.exception())
