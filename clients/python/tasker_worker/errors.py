"""Exceptions: the ones handlers raise to steer retries, and the ones the HTTP layer raises."""

from __future__ import annotations

from typing import Any, Optional


class PermanentError(Exception):
    """Raise from a handler when trying again cannot help (bad input, a refused card).

    The step fails with ``retryable: false``: it uses up no more attempts and blocks its task
    until an operator retries the task or resolves the step.
    """


class RetryAfter(Exception):
    """Raise from a handler to fail this attempt and ask for the next one after ``seconds``.

    Sent as ``retry_after_ms``; the server waits exactly that long (up to its own cap) instead of
    the template's backoff. The attempt still counts.
    """

    def __init__(self, seconds: float, message: Optional[str] = None):
        if seconds < 0:
            raise ValueError(f"RetryAfter: seconds must be 0 or more, got {seconds}")
        self.seconds = seconds
        super().__init__(message or f"retry after {seconds:g} s")


class WorkerError(Exception):
    """The server refused a request in a way retrying cannot fix (bad token, no such route).

    ``Worker.run`` raises it after its running steps have finished.
    """

    def __init__(self, message: str, status: Optional[int] = None, problem: Any = None):
        super().__init__(message)
        self.status = status
        self.problem = problem


class ServerAway(Exception):
    """The server could not be reached or answered 429 or 5xx: back off and try again.

    ``retry_after`` is the server's ``Retry-After`` in seconds, when it sent one.
    """

    def __init__(self, message: str, retry_after: Optional[float] = None):
        super().__init__(message)
        self.retry_after = retry_after


class Conflict(Exception):
    """409: the lease this call carried is no longer this worker's."""


class Refused(Exception):
    """Another 4xx answer: the request itself was wrong (a bad body, a result too large)."""

    def __init__(self, status: int, detail: str, problem: Any = None):
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.problem = problem
