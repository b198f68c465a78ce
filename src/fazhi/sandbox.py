"""The analysis sandbox: every analysis of an untrusted file runs here.

``fazhi analyze``, ``fazhi check``, ``fazhi eval``, ``fazhi corpus add`` and the
web app's uploads all analyse through one ``Sandbox``: a small set of worker
processes, each analysing one file at a time.

- **Memory**: each worker runs under ``resource.setrlimit(RLIMIT_AS)`` =
  ``settings.MAX_MEMORY`` (at least 512 MB above what the worker holds when it
  starts).  An allocation over it fails inside the worker (``MemoryError`` ->
  内存不足) or kills the worker (-> the file fails alone, the worker is replaced).
- **Time**: one deadline end to end (``settings.TIME_LIMIT``, default 60 s;
  a scan gets ``OCR_PAGE_SECONDS`` more for each page it needs OCR for, as soon
  as the page count is known).  The worker raises at the deadline (SIGALRM);
  if it does not answer within ``GRACE`` seconds more (stuck in C code), the
  parent kills it.  Either way the message is 处理超时（超过 N 秒），已跳过.
- **Concurrency**: at most ``settings.WORKERS`` analyses at once (default: the
  cores); further requests wait for a free worker.
- **Size of the result**: the text is capped by the readers (``MAX_CHARS``,
  ``MAX_PARAGRAPHS``); the facts and findings of one report by
  ``MAX_FACTS`` / ``MAX_FINDINGS`` (``apply_caps``).  A report cut short says so in
  a finding (rule ``ingest.note``, severity warning).
- Nothing raises out of the sandbox: every outcome is a ``Result`` with ``ok``,
  the value (a ``Report``, its dict, or the corpus rows) or a Chinese ``error``,
  and a ``kind`` (ok | error | timeout | memory | crash | bug) for callers that
  count (the fuzz harness counts ``bug`` as a traceback: ``detail`` holds it).

The library API (``fazhi.pipeline.analyze_*``) stays in process, without a
sandbox; ``execute(job)`` is the guarded in-process step the workers run (and
the Dask engine runs in its own workers).

Workers are forked from the caller (cheap: the pipeline is imported once, before
forking) or, from a multi-threaded server, started by a fork server
(``shared()``, used by the web app).  A caller with a thread of its own that
takes locks a child could need (``corpus add``'s writer thread, inside SQLite)
passes ``fork_lock``: a replacement worker is forked only while the caller holds
it, i.e. while that thread is between writes.
"""
from __future__ import annotations

import hashlib
import os
import signal
import sys
import threading
import time
import traceback
from collections import deque
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from . import recache, settings

TIMEOUT_MSG = "处理超时（超过 {n:g} 秒），已跳过"
CRASH_MSG = "处理时进程异常退出（可能内存不足或文件触发了程序错误），已跳过"
MEMORY_MSG = "内存不足（单个文件的分析超过 {mb:,} MB 上限），文件过大或过于复杂，未分析"
BUG_MSG = "分析失败（内部错误：{name}），请将此文件反馈给开发者"
GRACE = 5.0          # seconds past the deadline before the parent kills a worker
MIN_HEADROOM = 512 * 1024 * 1024

ProgressFn = Callable[[int, int], None]


@dataclass
class Job:
    """One file to analyse.  ``name`` is what the report shows as its source path."""
    name: str
    path: str | bytes | None = None   # the worker reads the file here (else ``data``)
    data: bytes | None = None
    fmt: str | None = None            # the format by content (web); default: by the name's suffix
    sha256: str | None = None
    want: str = "report"              # report | dict | rows (the corpus rows, ``store.rows_of``) | none
    max_bytes: int | None = None
    time_limit: float | None = None   # None: settings.TIME_LIMIT; 0: none
    hook: dict | None = None          # test hook (``fazhi.corpus.batch.TEST_HOOK``)
    key: Any = None                   # the caller's tag, returned in the result
    ruleset: Any = None               # a place's rules (``rules.RuleSet`` / ``RuleChoice``); None: national
    seq: int = -1                     # set by ``Sandbox.imap``


@dataclass
class Result:
    key: Any
    name: str
    kind: str                          # ok | error | timeout | memory | crash | bug
    value: Any = None
    error: str | None = None
    detail: str = ""                   # the traceback of a bug
    seconds: float = 0.0
    rss_kb: int = 0                    # the worker's peak resident memory so far (ru_maxrss)
    sha256: str | None = None
    seq: int = -1
    pid: int = 0                       # the process that analysed it

    @property
    def ok(self) -> bool:
        return self.kind == "ok"


# ------------------------------------------------------------------ the guarded step


class _Timeout(BaseException):
    """Raised inside the analysis at the deadline (a BaseException: no ``except
    Exception`` in the pipeline swallows it)."""


class Deadline:
    """A deadline for the work in this thread that can be moved later (OCR)."""

    def __init__(self, seconds: float | None, on_change: Callable[[float], None] | None = None):
        self.seconds = seconds if seconds and seconds > 0 else None
        self.start = time.monotonic()
        self.on_change = on_change
        self._timer: threading.Timer | None = None
        self._main = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
        self._old = None
        self._lock = threading.Lock()
        self._done = False
        self._fired = False
        self._tid = threading.get_ident()

    def __enter__(self):
        if self.seconds is None:
            return self
        if self._main:
            def on_alarm(signum, frame):
                raise _Timeout()

            self._old = signal.signal(signal.SIGALRM, on_alarm)
        self._arm(self.seconds)
        return self

    def _arm(self, remaining: float) -> None:
        remaining = max(0.001, remaining)
        if self._main:
            signal.setitimer(signal.ITIMER_REAL, remaining)
            return
        # not the main thread (a Dask worker thread): an asynchronous exception from a timer
        if self._timer is not None:
            self._timer.cancel()
        self._timer = threading.Timer(remaining, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        import ctypes

        with self._lock:
            if not self._done:
                self._fired = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._tid), ctypes.py_object(_Timeout))

    def extend_to(self, seconds: float) -> None:
        """Move the deadline to ``seconds`` after the start (never earlier)."""
        if self.seconds is None or seconds <= self.seconds:
            return
        self.seconds = seconds
        self._arm(self.start + seconds - time.monotonic())
        if self.on_change is not None:
            self.on_change(seconds)

    def __exit__(self, *exc):
        if self.seconds is None:
            return False
        if self._main:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._old)
        else:
            import ctypes

            with self._lock:
                self._done = True
                if self._timer is not None:
                    self._timer.cancel()
                if self._fired:  # clear a pending exception that has not been raised yet
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._tid), None)
        return False


def apply_caps(report) -> None:
    """Keep at most ``MAX_FACTS`` facts and ``MAX_FINDINGS`` findings; say so in a finding."""
    from .model import Finding

    max_facts = settings.get("MAX_FACTS")
    if len(report.facts) > max_facts:
        n = len(report.facts)
        # the quantities reader stops at 4 x the cap (``quantities._find``): then n is a floor
        count = f"至少 {n:,} 个" if n >= 4 * max_facts else f"{n:,} 个"
        report.facts = report.facts[:max_facts]
        report.findings.insert(0, Finding("ingest.note", "warning",
                                          f"数据过多（{count}数量），超过上限 {max_facts:,} 个，只保留了前 {max_facts:,} 个"))
    max_findings = settings.get("MAX_FINDINGS")
    if len(report.findings) > max_findings:
        n = len(report.findings)
        report.findings = report.findings[:max_findings - 1] + [Finding(
            "ingest.note", "warning", f"问题过多（{n:,} 条），超过上限 {max_findings:,} 条，只列出了前 {max_findings - 1:,} 条")]


def _test_hook(name: str, hook: dict | None) -> None:
    if not hook:
        return
    base = os.path.basename(name)
    slow = hook.get("slow")
    if slow and slow[0] in base:
        end = time.monotonic() + float(slow[1])
        while time.monotonic() < end:  # short sleeps: interruptible in any thread
            time.sleep(0.02)
    crash = hook.get("crash")
    if crash and crash in base:
        os._exit(70)
    stuck = hook.get("stuck")
    if stuck and stuck in base:  # stuck where the alarm cannot reach (as C code can be)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        while True:
            time.sleep(0.05)
    pages = hook.get("pages")
    if pages and pages[0] in base:  # a scan of N pages taking S seconds: the deadline grows first
        from .ingest import ocr

        ocr._tick(None, 0, int(pages[1]))
        end = time.monotonic() + float(pages[2])
        while time.monotonic() < end:
            time.sleep(0.02)
    hog = hook.get("hog")
    if hog and hog in base:
        junk = []
        while True:  # allocate until the memory limit stops it
            junk.append(bytearray(64 << 20))


def execute(job: Job, notify: Callable[[tuple], None] | None = None) -> Result:
    """Analyse one job in this process under its deadline; never raises (but see ``_Timeout``
    handling: the deadline is always cleared before returning)."""
    from .ingest import IngestError, format_of, ocr, read_bytes, read_file
    from .model import Source
    from .pipeline import analyze_raw

    t0 = time.perf_counter()
    limit = settings.get("TIME_LIMIT") if job.time_limit is None else float(job.time_limit)
    page_seconds = settings.get("OCR_PAGE_SECONDS")
    res = Result(job.key, job.name, "bug", sha256=job.sha256, seq=job.seq)

    def moved(seconds: float) -> None:
        if notify is not None:
            notify(("deadline", seconds))

    try:
        with Deadline(limit, moved) as deadline:
            def on_pages(done: int, total: int) -> None:
                if done == 0 and limit:
                    deadline.extend_to(limit + total * page_seconds)
                if notify is not None and done:
                    notify(("progress", done, total))

            with ocr.reporting(on_pages):
                _test_hook(job.name, job.hook)  # inside the deadline, as the analysis is
                data, fmt = job.data, job.fmt
                if data is None:
                    data, by_name = read_file(job.path if job.path is not None else job.name, max_bytes=job.max_bytes)
                    fmt = fmt or by_name
                fmt = fmt or format_of(job.name) or "txt"
                sha = job.sha256 or hashlib.sha256(data).hexdigest()
                res.sha256 = sha
                raw = read_bytes(data, fmt, max_bytes=job.max_bytes)
                report = analyze_raw(raw, Source(path=job.name, format=fmt, sha256=sha, encoding=raw.encoding),
                                     ruleset=job.ruleset)
                apply_caps(report)
                if job.want == "none":
                    res.value = None
                elif job.want == "dict":
                    res.value = report.to_dict()
                elif job.want == "rows":
                    from .corpus.store import rows_of

                    res.value = rows_of(report)
                else:
                    res.value = report
                res.kind = "ok"
    except _Timeout:
        res.kind, res.value, res.error = "timeout", None, TIMEOUT_MSG.format(n=limit)
    except IngestError as e:
        res.kind, res.error = "error", str(e)
    except MemoryError:
        res.kind, res.value, res.error = "memory", None, MEMORY_MSG.format(mb=settings.get("MAX_MEMORY") >> 20)
    except RecursionError:
        res.kind, res.error, res.detail = "bug", BUG_MSG.format(name="RecursionError"), traceback.format_exc(limit=-8)
    except Exception as e:  # a bug must cost this file only, never the batch
        res.kind, res.error, res.detail = "bug", BUG_MSG.format(name=type(e).__name__), traceback.format_exc(limit=-8)
    res.seconds = time.perf_counter() - t0
    res.pid = os.getpid()
    return res


# ------------------------------------------------------------------ worker processes


def limit_memory(limit: int | None = None) -> int | None:
    """Cap this process's address space (RLIMIT_AS); returns the cap, or None if unsupported."""
    try:
        import resource
    except ImportError:
        return None
    limit = limit or settings.get("MAX_MEMORY")
    try:
        with open("/proc/self/statm") as fh:
            vsz = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        vsz = 0
    cap = max(limit, vsz + MIN_HEADROOM)
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ValueError, OSError):
        return None
    return cap


def _peak_rss_kb() -> int:
    try:
        import resource

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    except Exception:  # noqa: BLE001
        return 0


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:  # the parent died (kill -9): do not linger
            os._exit(1)


def _worker_main(conn, memory: int, threads: int) -> None:
    parent = os.getppid()  # the caller, or the fork server (which ends with the caller)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass
    os.environ["FAZHI_OCR_THREADS"] = str(threads)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    limit_memory(memory)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        except Exception as e:  # noqa: BLE001 - a job that does not unpickle
            job = e
        if job is None:
            return
        if isinstance(job, Exception):
            res = Result(None, "", "bug", error=BUG_MSG.format(name=type(job).__name__))
        else:
            res = execute(job, conn.send)
        res.rss_kb = _peak_rss_kb()
        try:
            conn.send(("result", res))
        except (EOFError, OSError, BrokenPipeError):
            return
        except Exception as e:  # noqa: BLE001 - a value that does not pickle
            conn.send(("result", Result(res.key, res.name, "bug", error=BUG_MSG.format(name=type(e).__name__),
                                        detail=traceback.format_exc(limit=-4), rss_kb=res.rss_kb)))
        recache.save(child=True)  # patterns first compiled for this file, for the next process


def warm(want: str = "report") -> None:
    """Import the pipeline (and the corpus rows) and load the word segmenter before forking."""
    from .pipeline import analyze_text

    report = analyze_text("某某县2022年法治政府建设年度报告\n一、主要举措和成效\n调解纠纷12件。")
    if want == "rows":
        from .corpus.store import rows_of

        rows_of(report)


class _Worker:
    def __init__(self, ctx, memory: int, threads: int):
        parent_conn, child_conn = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker_main, args=(child_conn, memory, threads), daemon=True)
        self.proc.start()
        child_conn.close()
        self.conn = parent_conn
        self.job: Job | None = None       # the job it is on
        self.sent = 0.0                   # when it started on it (as far as the parent knows)
        self.hard: float = float("inf")   # when the parent kills it
        self.limit: float = 0.0
        self.progress: ProgressFn | None = None
        self.queue: deque = deque()       # (job, progress) sent after ``job``, waiting in the pipe

    def send(self, job: Job, progress: ProgressFn | None) -> None:
        """Send a job: the current one, or (``Sandbox.imap(ahead=…)``) one that waits in the
        pipe until the worker has answered the jobs before it."""
        if self.job is None:
            self._start(job, progress)
        else:
            self.queue.append((job, progress))
        self.conn.send(job)

    def _start(self, job: Job, progress: ProgressFn | None) -> None:
        limit = settings.get("TIME_LIMIT") if job.time_limit is None else float(job.time_limit)
        self.job, self.limit, self.progress = job, limit, progress
        self.sent = time.monotonic()
        self.hard = self.sent + limit + GRACE if limit else float("inf")

    def handle(self, msg) -> Result | None:
        """A message from the worker: progress, a moved deadline, or the result (the worker
        then starts on the next job it holds)."""
        kind = msg[0]
        if kind == "result":
            self.job = None
            if self.queue:
                self._start(*self.queue.popleft())
            return msg[1]
        if kind == "deadline":  # OCR: the worker moved its deadline to msg[1] s after the start
            self.limit = msg[1]
            self.hard = self.sent + msg[1] + GRACE
        elif kind == "progress" and self.progress is not None:
            try:
                self.progress(msg[1], msg[2])
            except Exception:  # noqa: BLE001 - a display must not sink the file
                pass
        return None

    def held(self) -> int:
        """Jobs sent and not answered."""
        return (self.job is not None) + len(self.queue)

    def orphans(self) -> list[Job]:
        """The jobs waiting behind the one it died on: never started, to be sent elsewhere."""
        jobs = [j for j, _ in self.queue]
        self.queue.clear()
        return jobs

    def failed(self, kind: str) -> Result:
        """The worker died or was killed while on ``self.job``."""
        job = self.job
        self.job = None
        if kind == "timeout":
            return Result(job.key, job.name, "timeout", error=TIMEOUT_MSG.format(n=self.limit), sha256=job.sha256,
                          seq=job.seq, seconds=time.monotonic() - self.sent)
        return Result(job.key, job.name, "crash", error=CRASH_MSG, sha256=job.sha256, seq=job.seq,
                      seconds=time.monotonic() - self.sent)

    def kill(self) -> None:
        try:
            self.proc.kill()
        except Exception:  # noqa: BLE001
            pass
        self.proc.join(5)
        try:
            self.conn.close()
        except Exception:  # noqa: BLE001
            pass

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except Exception:  # noqa: BLE001
            pass
        self.proc.join(2)
        if self.proc.is_alive():
            self.kill()
        else:
            self.conn.close()


class Sandbox:
    """Worker processes for analyses.  ``run(job)`` is thread-safe (at most ``workers``
    at once, the others wait); ``imap(jobs)`` keeps every worker busy for one caller.

        with Sandbox() as sb:
            for res in sb.imap(Job(name=str(p), path=str(p)) for p in files):
                ...
    """

    def __init__(self, workers: int | None = None, *, start_method: str | None = None, want: str = "report",
                 fork_lock=None):
        import multiprocessing

        self.workers = max(1, int(workers or settings.get("WORKERS")))
        self.start_method = start_method or ("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
        self.ctx = multiprocessing.get_context(self.start_method)
        if self.start_method == "forkserver":
            self.ctx.set_forkserver_preload(["fazhi.sandbox", "fazhi.pipeline"])
        self.want = want
        self.fork_lock = fork_lock
        self.memory = settings.get("MAX_MEMORY")
        self.threads = max(1, (os.cpu_count() or 1) // self.workers)
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._slots = threading.Semaphore(self.workers)
        self._warm = False
        self.closed = False
        self.peak_rss_kb = 0

    # -- workers
    def _new(self) -> _Worker:
        if not self._warm and self.start_method == "fork":
            warm(self.want)  # imported once here, shared by every forked worker
            self._warm = True
        with self.fork_lock or nullcontext():
            w = _Worker(self.ctx, self.memory, self.threads)
        with self._lock:
            self._all.add(w)
        return w

    def _take(self) -> _Worker:
        self._slots.acquire()
        with self._lock:
            if self.closed:
                self._slots.release()
                raise RuntimeError("sandbox closed")
            w = self._idle.pop() if self._idle else None
        if w is not None and not w.proc.is_alive():
            self._drop(w)
            w = None
        try:
            return w or self._new()
        except BaseException:
            self._slots.release()
            raise

    def _give(self, w: _Worker | None) -> None:
        with self._lock:
            if w is not None and not self.closed:
                self._idle.append(w)
        self._slots.release()

    def _drop(self, w: _Worker) -> None:
        w.kill()
        with self._lock:
            self._all.discard(w)

    def _note(self, res: Result) -> Result:
        if res.rss_kb > self.peak_rss_kb:
            self.peak_rss_kb = res.rss_kb
        return res

    def prestart(self) -> None:
        """Start every worker now (e.g. before other threads exist)."""
        ws = [self._take() for _ in range(self.workers)]
        for w in ws:
            self._give(w)

    # -- one job (thread-safe)
    def run(self, job: Job, progress: ProgressFn | None = None) -> Result:
        w = self._take()
        try:
            w.send(job, progress)
            while True:
                remaining = w.hard - time.monotonic()
                if remaining <= 0 or not w.conn.poll(min(remaining, 3600.0)):
                    if time.monotonic() < w.hard:
                        continue
                    res = w.failed("timeout")
                    self._drop(w)
                    w = None
                    return res
                try:
                    msg = w.conn.recv()
                except (EOFError, OSError):
                    res = w.failed("crash")
                    self._drop(w)
                    w = None
                    return res
                res = w.handle(msg)
                if res is not None:
                    return self._note(res)
        except BaseException:
            if w is not None:
                self._drop(w)
                w = None
            raise
        finally:
            self._give(w)

    # -- many jobs for one caller
    def imap(self, jobs: Iterable[Job], *, ordered: bool = False,
             progress: Callable[[Job, int, int], None] | None = None, ahead: int = 0) -> Iterator[Result]:
        """Results as they come (``ordered``: in the jobs' order, at most 4 × workers ahead).

        ``ahead``: jobs a busy worker may hold besides the one it is on, so that it never
        waits for the caller between files (the caller busy elsewhere, e.g. writing).
        Only jobs read from a path are sent ahead (a small message: a pipe never fills).
        Each still has its own deadline, started when the worker answers the job before
        it; when a worker dies, the file it was on is the culprit and the jobs behind it
        go to another worker."""
        from multiprocessing.connection import wait

        todo = iter(jobs)
        busy: dict = {}            # connection -> worker
        ready: dict[int, Result] = {}
        nxt_out = 0
        n_in = 0
        exhausted = False
        pending: deque = deque()
        again: deque = deque()     # jobs of a dead worker it never started
        nxt: Job | None = None     # taken from ``todo``, not sent yet
        window = 4 * self.workers

        def start(w: _Worker, job: Job) -> None:
            cb = (lambda d, t, j=job: progress(j, d, t)) if progress else None
            w.send(job, cb)
            busy[w.conn] = w

        def finish(w: _Worker, res: Result, alive: bool):
            if alive:
                if w.held() == 0:
                    del busy[w.conn]
                    self._give(w)
            else:
                del busy[w.conn]
                again.extend(w.orphans())
                self._drop(w)
                self._give(None)
            return self._note(res)

        def peek() -> Job | None:
            nonlocal nxt, exhausted, n_in
            if again:
                return again[0]
            if nxt is None and not exhausted and (not ordered or n_in - nxt_out < window):
                try:
                    nxt = next(todo)
                except StopIteration:
                    exhausted = True
                    return None
                nxt.seq = n_in
                n_in += 1
            return nxt

        def take() -> None:
            nonlocal nxt
            if again:
                again.popleft()
            else:
                nxt = None

        try:
            while True:
                # keep every worker busy (and, with ``ahead``, each with the next file in hand)
                while (job := peek()) is not None:
                    if len(busy) < self.workers:
                        take()
                        start(self._take(), job)
                        continue
                    if ahead and job.data is None:
                        w = min(busy.values(), key=_Worker.held)
                        if w.held() <= ahead:
                            take()
                            start(w, job)
                            continue
                    break
                if not busy:
                    break
                now = time.monotonic()
                soonest = min(w.hard for w in busy.values())
                for conn in wait(list(busy), timeout=max(0.0, min(soonest - now, 3600.0))):
                    w = busy[conn]
                    try:
                        msg = conn.recv()
                    except (EOFError, OSError):
                        pending.append(finish(w, w.failed("crash"), False))
                        continue
                    res = w.handle(msg)
                    if res is not None:
                        pending.append(finish(w, res, True))
                now = time.monotonic()
                for w in [w for w in busy.values() if w.hard <= now]:
                    pending.append(finish(w, w.failed("timeout"), False))
                while pending:
                    res = pending.popleft()
                    if not ordered:
                        yield res
                        continue
                    ready[res.seq] = res
                    while nxt_out in ready:
                        yield ready.pop(nxt_out)
                        nxt_out += 1
        finally:
            for w in list(busy.values()):  # the caller stopped early (Ctrl-C, an error)
                self._drop(w)
                self._give(None)

    # -- the end
    def close(self) -> None:
        with self._lock:
            self.closed = True
            idle, self._idle = self._idle, []
            every = list(self._all)
            self._all.clear()
        for w in idle:
            w.stop()
        for w in every:
            if w not in idle:
                w.kill()

    def abort(self) -> None:
        with self._lock:
            self.closed = True
            every = list(self._all)
            self._all.clear()
            self._idle = []
        for w in every:
            w.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc and exc[0] is not None and issubclass(exc[0], BaseException) and not issubclass(exc[0], Exception):
            self.abort()
        else:
            self.close()
        return False


_SHARED: Sandbox | None = None
_SHARED_LOCK = threading.Lock()


def shared() -> Sandbox:
    """The process-wide sandbox of a server (fork server start: safe from a threaded process)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None or _SHARED.closed:
            import atexit

            _SHARED = Sandbox(start_method="forkserver" if sys.platform.startswith("linux") else None)
            atexit.register(_SHARED.close)
        return _SHARED


@contextmanager
def local(workers: int | None = None, want: str = "report"):
    """A sandbox for one command: closed (workers stopped) at the end, killed on Ctrl-C."""
    sb = Sandbox(workers, want=want)
    try:
        yield sb
    except BaseException:
        sb.abort()
        raise
    else:
        sb.close()
