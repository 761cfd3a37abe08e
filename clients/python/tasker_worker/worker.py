"""The worker: a registry of handlers, one claim loop, a thread per running step."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Optional

from .backoff import Backoff
from .client import Client
from .errors import Conflict, PermanentError, Refused, RetryAfter, ServerAway, WorkerError
from .lease import Lease
from .step import Step

Handler = Callable[[Step], Any]

# Long enough for a useful message and a stack's last line, short enough to store by the million
# (the server takes up to 64 KiB).
MAX_ERROR_CHARS = 8192
# The server's limits on a claim and on a failure's retry_after_ms.
MAX_CLAIM = 100
MAX_HANDLERS = 100
MAX_RETRY_AFTER_MS = 86_400_000
QUEUE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")
WORKER_NAME = re.compile(r"[A-Za-z0-9_.:@-]{1,128}")


class Outcome:
    """What an attempt ended with: a result to complete with, or an error to fail with."""

    def __init__(
        self,
        result: Any = None,
        error: Optional[str] = None,
        retryable: bool = True,
        retry_after_ms: Optional[int] = None,
    ):
        self.result = result
        self.error = error
        self.retryable = retryable
        self.retry_after_ms = retry_after_ms

    @property
    def failed(self) -> bool:
        return self.error is not None


class Worker:
    """Pulls the steps of one queue from a Tasker server and runs them with registered handlers.

    >>> worker = Worker("http://127.0.0.1:8080", token, queue="payments")
    >>> @worker.handler("charge_card")
    ... def charge(step):
    ...     return {"charged": step.context["amount"]}
    >>> worker.run()   # until SIGTERM or ctrl-c

    ``max`` steps run at once, each on a thread of its own; ``lease_ms`` is how long the server
    keeps a step for this worker without news (renewed every third of it while the handler
    runs); ``wait_ms`` is how long one claim may wait on the server for work.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        queue: str,
        name: Optional[str] = None,
        max: int = 10,
        lease_ms: int = 30000,
        wait_ms: int = 10000,
        timeout: float = 30.0,
        logger: Optional[logging.Logger] = None,
    ):
        # The server's own limits, checked here so that a mistake shows at start, not as a
        # refused claim.
        if not isinstance(queue, str) or not QUEUE_NAME.fullmatch(queue):
            raise ValueError(f"Worker: queue must be 1 to 128 of A-Z a-z 0-9 _ . -, got {queue!r}")
        name = name or re.sub(r"[^A-Za-z0-9_.:@-]", "-", f"{socket.gethostname()}-{os.getpid()}")[:128]
        if not isinstance(name, str) or not WORKER_NAME.fullmatch(name):
            raise ValueError(f"Worker: name must be 1 to 128 of A-Z a-z 0-9 _ . : @ -, got {name!r}")
        if not isinstance(max, int) or max < 1:
            raise ValueError(f"Worker: max must be an integer of 1 or more, got {max!r}")
        if not isinstance(lease_ms, int) or not 1000 <= lease_ms <= 3_600_000:
            raise ValueError(f"Worker: lease_ms must be an integer from 1000 to 3600000, got {lease_ms!r}")
        if not isinstance(wait_ms, int) or not 0 <= wait_ms <= 60_000:
            raise ValueError(f"Worker: wait_ms must be an integer from 0 to 60000, got {wait_ms!r}")
        self.client = Client(base_url, token, timeout)
        self.queue = queue
        self.name = name
        self.max = max
        self.lease_ms = lease_ms
        self.wait_ms = wait_ms
        self.log = logger or logging.getLogger("tasker_worker")
        self.backoff = Backoff()
        self._handlers: Dict[str, Handler] = {}
        self._stop = threading.Event()
        self._slots = threading.Condition()
        self._running = 0

    # -- handlers -------------------------------------------------------------------------

    def handler(self, name: str) -> Callable[[Handler], Handler]:
        """Register the decorated function as the handler called ``name`` in templates."""

        def register(function: Handler) -> Handler:
            self.add_handler(name, function)
            return function

        return register

    def add_handler(self, name: str, function: Handler) -> None:
        if not isinstance(name, str) or not 1 <= len(name) <= 128 or any(_control(c) for c in name):
            raise ValueError(f"handler name must be 1 to 128 characters, no control characters: {name!r}")
        if name in self._handlers:
            raise ValueError(f"handler {name!r} is registered twice")
        if not callable(function):
            raise TypeError(f"handler {name!r} must be callable")
        self._handlers[name] = function

    @property
    def handlers(self) -> List[str]:
        return sorted(self._handlers)

    # -- running --------------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        """Stop claiming; ``run`` returns once the steps already claimed are finished.

        Safe from any thread and from signal handlers. A claim waiting on the server is not
        cut short (steps it brings back are run, not abandoned), so stopping takes up to
        ``wait_ms`` plus the longest running handler.
        """
        self._stop.set()
        # Only wake the claim loop if nobody holds the lock: a signal handler runs on the main
        # thread, which may hold it already, and the loop re-checks the flag every second.
        if self._slots.acquire(blocking=False):
            try:
                self._slots.notify_all()
            finally:
                self._slots.release()

    def run(self, install_signals: bool = True) -> None:
        """Claim and run steps until ``stop()``, SIGTERM or SIGINT; then finish what is running.

        Signal handlers are installed only on the main thread, and put back on return. A second
        signal while stopping exits the process at once (running steps are then retried
        elsewhere once their leases expire, each counting a failed attempt).
        """
        if not self._handlers:
            raise ValueError("Worker.run: register at least one handler first")
        if len(self._handlers) > MAX_HANDLERS:
            raise ValueError(f"Worker.run: a claim names at most {MAX_HANDLERS} handlers, {len(self._handlers)} are registered")
        previous = self._install_signals() if install_signals else {}
        pool = ThreadPoolExecutor(max_workers=self.max, thread_name_prefix="tasker-step")
        failure: Optional[WorkerError] = None
        self.log.info(
            "worker %s: claiming on queue %r for %s (max %d, lease %d ms)",
            self.name,
            self.queue,
            ", ".join(self.handlers),
            self.max,
            self.lease_ms,
        )
        try:
            failure = self._claim_loop(pool)
        finally:
            with self._slots:
                running = self._running
            if running:
                self.log.info("worker %s: stopping; waiting for %d running steps", self.name, running)
            pool.shutdown(wait=True)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            self.log.info("worker %s: stopped", self.name)
        if failure is not None:
            raise failure

    def _install_signals(self) -> Dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}

        def on_signal(signum: int, _frame: Any) -> None:
            if self.stopping:
                self.log.warning("worker %s: second signal, exiting now", self.name)
                os._exit(128 + signum)
            self.log.info("worker %s: %s received, stopping", self.name, signal.Signals(signum).name)
            self.stop()

        previous = {}
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.getsignal(signum)
            signal.signal(signum, on_signal)
        return previous

    def _pause(self, seconds: float) -> None:
        """Wait before trying the server again; cut short by ``stop()``."""
        self._stop.wait(seconds)

    def _claim_loop(self, pool: ThreadPoolExecutor) -> Optional[WorkerError]:
        names = self.handlers
        while not self.stopping:
            free = self._wait_for_slots()
            if free == 0:
                break
            try:
                items = self.client.claim(
                    self.queue, names, min(free, MAX_CLAIM), self.wait_ms, self.lease_ms, self.name
                )
            except ServerAway as error:
                delay = self.backoff.next(error.retry_after)
                self.log.warning("claim failed (%s); trying again in %.2f s", error, delay)
                self._pause(delay)
                continue
            except (Refused, Conflict) as error:
                # A bad token, a missing scope, a server without worker routes: no retry fixes it.
                self.log.error("claim refused: %s", error)
                status = error.status if isinstance(error, Refused) else 409
                problem = error.problem if isinstance(error, Refused) else None
                self.stop()
                return WorkerError(f"claim refused: {error}", status, problem)
            # The server answers as soon as it has claimed, so the leases began just before now.
            # Not when the request was sent: a long poll may have waited most of a lease first.
            claimed_at = time.monotonic()
            self.backoff.reset()
            for item in items:
                self._start(pool, item, claimed_at)
        return None

    def _wait_for_slots(self) -> int:
        with self._slots:
            while not self.stopping and self._running >= self.max:
                self._slots.wait(1.0)
            return 0 if self.stopping else self.max - self._running

    def _start(self, pool: ThreadPoolExecutor, item: Any, claimed_at: float) -> None:
        try:
            step = Step.from_claim(item)
        except ValueError as error:
            # Without an id and a token there is nothing to answer; the lease will expire.
            self.log.error("%s", error)
            return
        # The lease runs from the claim, not from when a thread picks the step up.
        lease = Lease(self.client, step, self.lease_ms, claimed_at, self.log)
        lease.start()
        with self._slots:
            self._running += 1
        pool.submit(self._execute, step, lease)

    def _execute(self, step: Step, lease: Lease) -> None:
        try:
            outcome = self._call(step)
            if lease.lost:
                self.log.warning(
                    "step %s: result of attempt %s dropped (%s)", step.step_id, step.attempt, lease.reason
                )
                return
            self._report(step, lease, outcome)
        except Exception:  # the loop must survive anything a step does
            self.log.exception("step %s: unexpected error in the worker", step.step_id)
        finally:
            lease.stop()
            with self._slots:
                self._running -= 1
                self._slots.notify_all()

    def _call(self, step: Step) -> Outcome:
        function = self._handlers.get(step.handler)
        if function is None:
            return Outcome(error=f"this worker ({self.name}) has no handler {step.handler!r}")
        try:
            result = function(step)
        except PermanentError as error:
            self.log.warning("step %s (%s) failed permanently: %s", step.step_id, step.name, error)
            return Outcome(error=_text(error), retryable=False)
        except RetryAfter as error:
            self.log.info("step %s (%s) asks to retry after %g s", step.step_id, step.name, error.seconds)
            retry_after_ms = min(int(round(error.seconds * 1000)), MAX_RETRY_AFTER_MS)
            return Outcome(error=_text(error), retry_after_ms=retry_after_ms)
        except Exception as error:
            self.log.warning("step %s (%s) failed", step.step_id, step.name, exc_info=True)
            return Outcome(error=f"{type(error).__name__}: {_text(error)}")
        try:
            json.dumps(result, allow_nan=False)
        except (TypeError, ValueError) as error:
            return Outcome(error=f"the handler's result is not JSON: {error}", retryable=False)
        return Outcome(result=result)

    def _report(self, step: Step, lease: Lease, outcome: Outcome) -> None:
        """Send the outcome, retrying while the server is away and the lease may still hold.

        The heartbeat keeps running meanwhile, so the lease outlives a short outage; once it is
        lost (409, or the local deadline) the outcome is dropped: the server will have counted
        the attempt as failed, or will when it sees the lease expired.
        """
        backoff = Backoff()
        while not lease.lost:
            try:
                if outcome.failed:
                    self.client.fail(
                        step.step_id, step.lease_token, outcome.error or "", outcome.retryable, outcome.retry_after_ms
                    )
                else:
                    self.client.complete(step.step_id, step.lease_token, outcome.result)
                self.log.debug("step %s: %s", step.step_id, "failed" if outcome.failed else "complete")
                return
            except Conflict as error:
                self.log.warning(
                    "step %s: the server no longer gives this worker attempt %s (%s); outcome dropped",
                    step.step_id,
                    step.attempt,
                    error,
                )
                return
            except ServerAway as error:
                delay = backoff.next(error.retry_after)
                self.log.warning("step %s: sending the outcome failed (%s); again in %.2f s", step.step_id, error, delay)
                step.lease_lost.wait(delay)
            except Refused as error:
                if outcome.failed:
                    self.log.error("step %s: the server refused the failure: %s", step.step_id, error)
                    return
                # The result itself was refused (too large, say): a retry would send it again.
                self.log.error("step %s: the server refused the result: %s", step.step_id, error)
                outcome = Outcome(error=f"the server refused the result: {error.detail}", retryable=False)
        self.log.warning("step %s: outcome dropped (%s)", step.step_id, lease.reason)


def _control(char: str) -> bool:
    return ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F


def _text(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 3] + "..."
