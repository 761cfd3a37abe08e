"""A Tasker worker in plain Python: run the steps of a queue with your own handlers.

See README.md in this directory and docs/WORKERS.md in the Tasker repository for the protocol.
"""

from .backoff import Backoff
from .client import Client, parse_retry_after
from .errors import Conflict, PermanentError, Refused, RetryAfter, ServerAway, WorkerError
from .step import Step
from .worker import Worker

__all__ = [
    "Backoff",
    "Client",
    "Conflict",
    "PermanentError",
    "Refused",
    "RetryAfter",
    "ServerAway",
    "Step",
    "Worker",
    "WorkerError",
    "parse_retry_after",
]
__version__ = "0.1.0"
