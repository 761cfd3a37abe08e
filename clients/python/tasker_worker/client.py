"""The four calls of the worker protocol over urllib, with answers sorted into what to do next.

Every failure becomes one of three exceptions: ``ServerAway`` (try again later), ``Conflict``
(the lease is gone: drop the step) or ``Refused`` (this request will never succeed).
"""

from __future__ import annotations

import email.utils
import http.client
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, List, Optional, Sequence

from .errors import Conflict, Refused, ServerAway

USER_AGENT = "tasker-worker-python/0.1.0"


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


class Client:
    """One worker's view of a Tasker server: base URL, token, and the per-request time-out."""

    def __init__(self, base_url: str, token: str, timeout: float = 30.0):
        parsed = urllib.parse.urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"base_url must be http://host:port or https://..., got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def claim(
        self,
        queue: str,
        handlers: Sequence[str],
        max_steps: int,
        wait_ms: int,
        lease_ms: int,
        worker: str,
    ) -> List[Dict[str, Any]]:
        body = {
            "queue": queue,
            "handlers": list(handlers),
            "max": max_steps,
            "wait_ms": wait_ms,
            "lease_ms": lease_ms,
            "worker": worker,
        }
        # The server may hold the request for wait_ms before answering an empty list.
        answer = self._post("/v1/worker/claim", body, self.timeout + wait_ms / 1000.0)
        steps = answer.get("steps") if isinstance(answer, dict) else None
        if not isinstance(steps, list):
            raise ServerAway(f"claim answer has no steps list: {answer!r}")
        return steps

    def heartbeat(
        self, step_id: int, lease_token: str, lease_ms: int, timeout: Optional[float] = None
    ) -> Any:
        return self._post(
            f"/v1/worker/steps/{step_id}/heartbeat",
            {"lease_token": lease_token, "lease_ms": lease_ms},
            self.timeout if timeout is None else timeout,
        )

    def complete(self, step_id: int, lease_token: str, result: Any) -> Any:
        return self._post(
            f"/v1/worker/steps/{step_id}/complete",
            {"lease_token": lease_token, "result": result},
            self.timeout,
        )

    def fail(
        self,
        step_id: int,
        lease_token: str,
        error: str,
        retryable: bool,
        retry_after_ms: Optional[int] = None,
    ) -> Any:
        body: Dict[str, Any] = {"lease_token": lease_token, "error": error, "retryable": retryable}
        if retry_after_ms is not None:
            body["retry_after_ms"] = retry_after_ms
        return self._post(f"/v1/worker/steps/{step_id}/fail", body, self.timeout)

    def _post(self, path: str, body: Any, timeout: float) -> Any:
        data = json.dumps(body).encode("utf-8")
        request = urllib.request.Request(
            self.base_url + path,
            data=data,
            method="POST",
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            raise _classify(path, error) from None
        except (urllib.error.URLError, http.client.HTTPException, socket.timeout, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ServerAway(f"POST {path}: {reason}") from None
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise ServerAway(f"POST {path}: answer is not JSON: {raw[:200]!r}") from None


def _classify(path: str, error: urllib.error.HTTPError) -> Exception:
    status = error.code
    try:
        raw = error.read()
    except (OSError, http.client.HTTPException):
        raw = b""
    problem: Any = None
    detail = raw.decode("utf-8", "replace")[:500]
    try:
        problem = json.loads(raw) if raw else None
    except ValueError:
        problem = None
    if isinstance(problem, dict):
        detail = str(problem.get("detail") or problem.get("title") or detail)
    if status == 409:
        return Conflict(f"POST {path}: 409 {detail}")
    if status == 429 or status >= 500:
        retry_after = parse_retry_after(error.headers.get("Retry-After") if error.headers else None)
        return ServerAway(f"POST {path}: {status} {detail}", retry_after)
    return Refused(status, f"POST {path}: {detail}", problem)
