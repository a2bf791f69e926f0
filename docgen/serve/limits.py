"""Limits of the service: the body size (413), the per-request time limit counted from the start of
the work (not the queue), and bounded concurrency on a process pool.

The pool has ``workers`` processes and at most ``workers`` requests in it: the others wait for a
slot (their wait is not counted against the time limit), and a request that has waited longer than
``queue_timeout`` gets 503. The time limit is enforced inside the worker (see
:func:`docgen.serve.work.timed`), so a slow request never holds a worker past it.

A worker is never used again after it was interrupted or lost: the pool starts new workers (warmed as
at startup) and lets the old ones finish the requests they hold. That covers a worker stopped by the
time limit (it may have been halfway through updating a cache), one killed (the kernel's OOM killer, a
crash in a C library: the request it held gets 503, try again; a pool that broke while idle costs no
request), and one hung in C code past the backstop (killed).
"""
from __future__ import annotations

import asyncio
import os
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from .work import Reply


@dataclass(frozen=True)
class Limits:
    max_body: int = 32 * 1024 * 1024  # bytes of a request body (docgen reads JSON files up to 32 MiB)
    timeout: float = 60.0  # seconds of work for one request
    queue_timeout: float = 120.0  # seconds a request may wait for a worker
    workers: int = 2
    signing: tuple[str, bytes | None] | None = None  # --sign-with: the key file and its passphrase


#: The answer to the request a worker was working on when it died.
WORKER_LOST = "the worker stopped while working on this request: try again"


class Pool:
    """A process pool with a slot per worker: a request waits for a slot, then runs at once. Its
    workers are replaced when one is lost or interrupted (:class:`docgen.batch.Workers`)."""

    def __init__(self, limits: Limits) -> None:
        from ..batch import Workers  # noqa: PLC0415
        from .work import start_worker  # noqa: PLC0415

        self.limits = limits
        self.executor = Workers(limits.workers, initializer=start_worker, initargs=(limits.signing,))
        self.slots = asyncio.Semaphore(limits.workers)

    def _warm(self) -> list[Future]:
        from .work import ready  # noqa: PLC0415

        return [self.executor.submit(ready) for _ in range(self.limits.workers)]

    async def start(self) -> None:
        """Start and warm every worker before the first request."""
        await asyncio.gather(*map(asyncio.wrap_future, self._warm()))

    def _renew(self, future: Future, kill: bool = False) -> None:
        if self.executor.renew(future, kill):
            self._warm()  # the new workers start now, not when the next request comes

    async def run(self, fn_name: str, *args: Any) -> Reply:
        from ..batch.workers import lost_errors  # noqa: PLC0415
        from .work import timed  # noqa: PLC0415

        try:
            await asyncio.wait_for(self.slots.acquire(), self.limits.queue_timeout)
        except TimeoutError:
            return Reply(503, {"error": "the service is busy: try again later"})
        future = None
        try:
            future = self.executor.submit(timed, fn_name, self.limits.timeout, *args)
            # the worker stops itself at the limit; this wait is a backstop for a worker that hangs in C code
            reply = await asyncio.wait_for(asyncio.wrap_future(future), self.limits.timeout + 30)
            if reply.retire:
                self._renew(future)
            return reply
        except lost_errors():
            if future is not None:
                self._renew(future)
            return Reply(503, {"error": WORKER_LOST})
        except TimeoutError:
            if future is not None:
                self._renew(future, kill=True)
            return Reply(503, {"error": f"the request took longer than the time limit ({self.limits.timeout:g} s)"})
        finally:
            self.slots.release()

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


class BodyLimit:
    """ASGI middleware: a body declared (Content-Length) longer than ``max_body`` bytes gets 413 before
    anything is read."""

    def __init__(self, app: Any, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await _too_large(send, self.max_body, scope)
            return
        await self.app(scope, receive, send)  # a body streamed without a length is counted as read (read_body)


async def read_body(stream, max_body: int) -> bytes | None:
    """A request body read in pieces; None as soon as it grows past ``max_body`` bytes."""
    parts, seen = [], 0
    async for chunk in stream:
        seen += len(chunk)
        if seen > max_body:
            return None
        parts.append(chunk)
    return b"".join(parts)


async def _too_large(send, max_body: int, scope) -> None:
    import json  # noqa: PLC0415

    scope.setdefault("state", {})["status"] = 413
    body = json.dumps({"error": f"request body larger than {max_body} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


__all__ = ["Limits", "Pool", "BodyLimit", "read_body", "default_workers"]
