"""Keeping a claimed step's lease alive while its handler runs and its outcome is sent."""

from __future__ import annotations

import logging
import threading
import time
from typing import Optional

from .backoff import Backoff
from .client import Client
from .errors import Conflict, Refused, ServerAway
from .step import Step

# A lease is held until a sixth of it before it expires by this worker's clock: the server's
# clock may run a little ahead, and the step must not run here once it could run elsewhere.
SAFETY = 5.0 / 6.0


class Lease:
    """Renews one step's lease every third of a lease on a thread of its own.

    The lease is lost (``step.lease_lost`` set, never cleared) when the server answers 409 or
    refuses the renewal, or when no renewal got through before the local deadline. After that
    nothing more is sent for the step.
    """

    def __init__(
        self,
        client: Client,
        step: Step,
        lease_ms: int,
        claimed_at: float,
        log: logging.Logger,
    ):
        self.client = client
        self.step = step
        self.lease_ms = lease_ms
        self.log = log
        self.reason: Optional[str] = None
        self.renewals = 0
        self._deadline = claimed_at + lease_ms / 1000.0 * SAFETY
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"tasker-heartbeat-{step.step_id}", daemon=True
        )

    @property
    def lost(self) -> bool:
        return self.step.lease_lost.is_set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop renewing (the outcome was sent, or the step was dropped)."""
        self._done.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def lose(self, reason: str) -> None:
        if not self.lost:
            self.reason = reason
            self.step.lease_lost.set()
            self.log.warning(
                "step %s (task %s, attempt %s): lease lost: %s; its result will be dropped",
                self.step.step_id,
                self.step.task_id,
                self.step.attempt,
                reason,
            )

    def _run(self) -> None:
        interval = self.lease_ms / 3000.0
        backoff = Backoff(base=min(0.2, interval / 4), cap=max(interval, min(0.2, interval / 4)))
        wait = interval
        while not self._done.wait(max(0.0, min(wait, self._deadline - time.monotonic()))):
            if time.monotonic() >= self._deadline:
                self.lose("no heartbeat got through in time")
                return
            sent_at = time.monotonic()
            try:
                # Never wait for a renewal past the deadline: the lease is judged lost then.
                self.client.heartbeat(
                    self.step.step_id,
                    self.step.lease_token,
                    self.lease_ms,
                    timeout=max(0.05, self._deadline - sent_at),
                )
            except Conflict as error:
                self.lose(f"the server answered 409 to a heartbeat ({error})")
                return
            except Refused as error:
                self.lose(f"the server refused a heartbeat ({error})")
                return
            except ServerAway as error:
                wait = backoff.next(error.retry_after)
                self.log.warning(
                    "step %s: heartbeat failed (%s); trying again in %.2f s",
                    self.step.step_id,
                    error,
                    wait,
                )
                continue
            self.renewals += 1
            backoff.reset()
            self._deadline = sent_at + self.lease_ms / 1000.0 * SAFETY
            wait = interval
