"""Bounded worker pools for the expensive parts of a request (password hashing,
analysing an upload), separate from the thread pool that serves pages.

``await pool.run(fn, *args, weight=n)`` runs ``fn`` on one of ``workers`` threads.
At most ``max_waiting`` calls (and ``max_weight`` bytes of their bodies, for
uploads) may wait for a thread; beyond that ``Busy`` is raised at once — the
caller answers 503 with a Chinese message instead of queueing without end.
So 40 connections of login attempts cost ``workers`` argon2 hashes at a time
(64 MiB each), not 40, and the pages stay served.
"""
from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor


class Busy(Exception):
    """The pool's queue is full; ``str(err)`` is Chinese."""


class BoundedPool:
    def __init__(self, name: str, workers: int, max_waiting: int, max_weight: int | None = None,
                 busy_message: str = "服务器正忙，请稍后再试"):
        self.name = name
        self.workers = max(1, int(workers))
        self.max_waiting = max(0, int(max_waiting))
        self.max_weight = max_weight
        self.busy_message = busy_message
        self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix=f"fazhi-{name}")
        self._lock = threading.Lock()
        self.pending = 0          # running + waiting
        self.weight = 0
        self.peak = 0

    def _release(self, weight: int) -> None:
        with self._lock:
            self.pending -= 1
            self.weight -= weight

    async def run(self, fn, *args, weight: int = 0, **kw):
        with self._lock:
            if self.pending >= self.workers + self.max_waiting or (
                    self.max_weight is not None and self.pending and self.weight + weight > self.max_weight):
                raise Busy(self.busy_message)
            self.pending += 1
            self.weight += weight
            self.peak = max(self.peak, self.pending)
        try:
            fut = self._executor.submit(fn, *args, **kw)
        except BaseException:
            self._release(weight)
            raise
        # released when the work ends, not when the waiting request goes away
        fut.add_done_callback(lambda _f: self._release(weight))
        return await asyncio.wrap_future(fut)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
