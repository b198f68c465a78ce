"""Login throttling with growing delays, per client address, per user name and
per trusted browser — without letting strangers lock an account out.

Keys of one attempt:

- from a browser that has logged in as this user before (a signed device
  cookie, as the OWASP guidance on device cookies suggests): only that
  browser's own counter — strangers' failures never delay it;
- otherwise the client address and the user name (with the account's
  session version, so ``fazhi user passwd`` starts the name afresh).

After ``free`` failures of a key (10 per address or browser, 5 per name) each
further failure makes that key wait 1, 2, 4 … seconds, at most ``cap``
(300 s); a key is forgotten ``window`` (15 min) after its last failure.
Attempts made while waiting are refused (429, "请 N 秒后再试") without checking
the password and do not count, so a correct password works as soon as the
delay has passed.  Unknown and known names are throttled alike (no user
enumeration).  The counters live in memory (at most ``max_keys``).
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict

FREE = {"addr": 10, "device": 10, "user": 5}


class LoginThrottle:
    def __init__(self, free: dict | None = None, cap: float = 300.0, window: float = 900.0,
                 max_keys: int = 100_000, clock=time.monotonic):
        self.free = {**FREE, **(free or {})}
        self.cap, self.window, self.max_keys, self.clock = float(cap), float(window), int(max_keys), clock
        self._d: OrderedDict[tuple, list] = OrderedDict()   # key -> [failures, last failure, blocked until]
        self._lock = threading.Lock()

    def _get(self, key: tuple, now: float) -> list | None:
        e = self._d.get(key)
        if e is not None and now - e[1] > self.window:
            del self._d[key]
            return None
        return e

    def wait(self, keys) -> float:
        """Seconds until an attempt with these keys is allowed (0: now)."""
        now = self.clock()
        with self._lock:
            return max([max(0.0, e[2] - now) for k in keys if (e := self._get(k, now))] or [0.0])

    def failed(self, keys) -> None:
        now = self.clock()
        with self._lock:
            for k in keys:
                e = self._get(k, now) or [0, now, 0.0]
                e[0] += 1
                e[1] = now
                over = e[0] - self.free.get(k[0], 5)
                if over > 0:
                    e[2] = now + min(self.cap, 2.0 ** (over - 1))
                self._d[k] = e
                self._d.move_to_end(k)
            while len(self._d) > self.max_keys:
                self._d.popitem(last=False)

    def clear(self, keys) -> None:
        with self._lock:
            for k in keys:
                self._d.pop(k, None)

    def failures(self, key: tuple) -> int:
        with self._lock:
            e = self._get(key, self.clock())
            return e[0] if e else 0
