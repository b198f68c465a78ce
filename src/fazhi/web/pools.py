"""Bounded worker pools for the expensive parts of a request (password hashing,
analysing an upload), separate from the thread pool that serves pages.

``await pool.run(fn, *args, weight=n)`` runs ``fn`` on one of ``workers`` threads.
At most ``max_waiting`` calls (and ``max_weight`` bytes of their bodies, for
uploads) may wait for a thread; beyond that ``Busy`` is raised at once — the
caller answers 503 with a Chinese message instead of queueing without end.
Worker threads run at a lower CPU priority (``nice``) than the threads that
serve pages.
So 40 connections of login attempts cost ``workers`` argon2 hashes at a time
(64 MiB each), not 40, and the pages stay served.
"""
from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor


class Busy(Exception):
    """The pool's queue is full; ``str(err)`` is Chinese."""


class BoundedPool:
    def __init__(self, name: str, workers: int, max_waiting: int, max_weight: int | None = None,
                 busy_message: str = "服务器正忙，请稍后再试", nice: int = 0):
        self.name = name
        self.workers = max(1, int(workers))
        self.max_waiting = max(0, int(max_waiting))
        self.max_weight = max_weight
        self.busy_message = busy_message
        self.nice = int(nice)
        self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix=f"fazhi-{name}",
                                            initializer=self._lower_priority)
        self._lock = threading.Lock()
        self.pending = 0          # running + waiting
        self.weight = 0
        self.peak = 0

    def _lower_priority(self) -> None:
        """Linux schedules threads one by one: a worker thread (and the threads argon2
        starts for its lanes, which inherit it) gives way to the threads serving pages."""
        if self.nice > 0:
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.nice)
            except (AttributeError, OSError):
                pass

    def full(self) -> bool:
        return self.pending >= self.workers + self.max_waiting

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


class Shares:
    """At most ``limit`` places per key (a client address) in a pool at a time."""

    def __init__(self, limit: int):
        self.limit = max(1, int(limit))
        self._n: dict = {}
        self._lock = threading.Lock()

    def take(self, key) -> bool:
        with self._lock:
            n = self._n.get(key, 0)
            if n >= self.limit:
                return False
            self._n[key] = n + 1
            return True

    def give(self, key) -> None:
        with self._lock:
            n = self._n.get(key, 0) - 1
            if n > 0:
                self._n[key] = n
            else:
                self._n.pop(key, None)
