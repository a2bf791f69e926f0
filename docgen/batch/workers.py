"""Worker processes that outlive a lost worker.

When one process of a ``concurrent.futures`` process pool dies (the kernel's OOM killer on a huge
document, a crash in a C library, a kill from outside), the pool is broken for good: every task in it,
and every task submitted later, fails with ``BrokenProcessPool``. :class:`Workers` is a process pool
that starts new processes instead (once, however many tasks saw the old ones fail), and
:func:`results` turns a lost task into its items tried again one at a time: an item that loses its
worker again is the one to blame, and gets ``lost(item)``'s answer; the others come out as usual. A Dask
cluster replaces its workers itself and raises ``KilledWorker`` for a task that killed several: that
is handled the same way. The batch and the service's request pool run on this.
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

Item = TypeVar("Item")
Result = TypeVar("Result")


class Workers(Executor):
    """A process pool of ``max_workers`` processes (each started with ``initializer(*initargs)``) that
    is started again when one of its processes dies or must not be used again (:meth:`renew`)."""

    def __init__(self, max_workers: int, initializer: Callable[..., object] | None = None,
                 initargs: tuple = ()) -> None:
        self._max_workers = max_workers  # read by the batch to bound the tasks in flight
        self._initializer = initializer
        self._initargs = initargs
        self._pool = self._start()
        self._ran_on: WeakKeyDictionary[Future, ProcessPoolExecutor] = WeakKeyDictionary()

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self._max_workers, initializer=self._initializer,
                                   initargs=self._initargs)

    def submit(self, fn, /, *args, **kwargs) -> Future:
        pool = self._pool
        try:
            future = pool.submit(fn, *args, **kwargs)
        except BrokenProcessPool:  # it broke while idle: the task has not started anywhere
            self._replace(pool)
            pool = self._pool
            future = pool.submit(fn, *args, **kwargs)
        self._ran_on[future] = pool
        return future

    def renew(self, future: Future, kill: bool = False) -> bool:
        """The processes that ran ``future`` are not used again: new ones take the next tasks (unless
        that was done already for another of their tasks; returns whether it was done now). The old
        ones finish what they hold and exit, or are killed (``kill``: one is hung)."""
        pool = self._ran_on.get(future)
        if pool is not self._pool:
            return False
        self._replace(pool, kill)
        return True

    def _replace(self, old: ProcessPoolExecutor, kill: bool = False) -> None:
        self._pool = self._start()
        if kill:
            for process in list((getattr(old, "_processes", None) or {}).values()):  # private: no public way
                process.kill()
        old.shutdown(wait=False)  # its tasks still queued run there: none is lost by the change

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def lost_errors() -> tuple[type[BaseException], ...]:
    """What a task's result raises when its worker was lost: ``BrokenProcessPool``, and Dask's
    ``KilledWorker`` when Dask is in use (never imported here for that)."""
    distributed = sys.modules.get("distributed")
    killed = getattr(distributed, "KilledWorker", None)
    return (BrokenProcessPool, killed) if isinstance(killed, type) else (BrokenProcessPool,)


def results(executor: Executor, future: Future, fn: Callable[..., list[Result]], items: Sequence[Item],
            *args: Any, lost: Callable[[Item], Result], noticed: Callable[[], None] | None = None) -> list[Result]:
    """The results of ``future``, a task that runs ``fn(items, *args)`` on ``executor``. If its worker
    was lost, each item is run again alone (one at a time, so that a second loss names its item), and
    an item whose worker is lost again gets ``lost(item)``. ``noticed()`` is called once for each loss
    (the tasks of a pool that broke all fail: that is one loss)."""
    errors = lost_errors()
    try:
        return future.result()
    except errors:
        _renew(executor, future, noticed)
    out: list[Result] = []
    for item in items:
        again = executor.submit(fn, [item], *args)
        try:
            out.extend(again.result())
        except errors:
            _renew(executor, again, noticed)
            out.append(lost(item))
    return out


def _renew(executor: Executor, future: Future, noticed: Callable[[], None] | None) -> None:
    first = executor.renew(future) if isinstance(executor, Workers) else True
    if first and noticed is not None:
        noticed()


__all__ = ["Workers", "lost_errors", "results"]
