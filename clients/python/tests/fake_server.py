"""A stand-in for the worker routes of `tasker serve`, on http.server, scripted by each test.

It keeps every request it got, hands out the steps a test queued, and answers with the statuses
a test scripted (409, 503 with Retry-After, ...) before behaving normally.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple

TOKEN = "tsk_test-token"
STEP_ROUTE = re.compile(r"^/v1/worker/steps/(\d+)/(heartbeat|complete|fail)$")

Answer = Tuple[int, Dict[str, str], Any]


class FakeTasker:
    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.pending: List[Dict[str, Any]] = []
        self.claims: List[Dict[str, Any]] = []
        self.heartbeats: Dict[int, List[Dict[str, Any]]] = {}
        self.completes: Dict[int, List[Dict[str, Any]]] = {}
        self.fails: Dict[int, List[Dict[str, Any]]] = {}
        self.auth_headers: List[Optional[str]] = []
        # Scripted answers, used up front to back before the normal behaviour.
        self.claim_answers: List[Answer] = []
        self.step_answers: Dict[Tuple[int, str], List[Answer]] = {}
        # Steps whose every heartbeat is answered 409 (the lease was taken back).
        self.lost: set = set()
        # Set: waiting claims answer at once, as a server does when it stops.
        self.hurrying = False
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- test side ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeTasker":
        self._thread.start()
        return self

    def hurry(self) -> None:
        """Answer waiting claims now (and every later one at once)."""
        with self.cond:
            self.hurrying = True
            self.cond.notify_all()

    def close(self) -> None:
        self.hurry()
        self._server.shutdown()
        self._server.server_close()

    def add_step(self, step_id: int, handler: str, **fields: Any) -> None:
        step = {
            "step_id": step_id,
            "task_id": fields.pop("task_id", 1000 + step_id),
            "attempt": fields.pop("attempt", 1),
            "handler": handler,
            "name": fields.pop("name", handler),
            "context": fields.pop("context", {}),
            "config": fields.pop("config", {}),
            "parent_results": fields.pop("parent_results", {}),
            "lease_expires_at": "2030-01-01T00:00:30Z",
        }
        assert not fields, f"unknown step fields {fields}"
        with self.cond:
            self.pending.append(step)
            self.cond.notify_all()

    def script_step(self, step_id: int, call: str, *answers: Answer) -> None:
        with self.cond:
            self.step_answers.setdefault((step_id, call), []).extend(answers)

    def wait_for(self, predicate: Callable[["FakeTasker"], bool], timeout: float = 20.0) -> None:
        """Wait until the predicate holds; a test that never gets there fails, it does not hang."""
        with self.cond:
            if not self.cond.wait_for(lambda: predicate(self), timeout):
                raise AssertionError(f"fake server: condition not reached within {timeout} s")

    # -- server side ----------------------------------------------------------------------

    def _claim(self, body: Dict[str, Any]) -> Answer:
        with self.cond:
            self.claims.append(body)
            self.cond.notify_all()
            if self.claim_answers:
                return self.claim_answers.pop(0)
            wanted = set(body.get("handlers") or [])
            # Long-poll as the server does, but never long enough to slow a test down much.
            timeout = min(body.get("wait_ms", 0) / 1000.0, 5.0)
            self.cond.wait_for(lambda: self._runnable(wanted) or self.hurrying, timeout)
            steps = []
            for step in list(self._runnable(wanted))[: body["max"]]:
                self.pending.remove(step)
                token = f"{step['attempt']}:worker:{body['worker']}:x"
                steps.append(dict(step, lease_token=token))
            return 200, {}, {"steps": steps}

    def _runnable(self, wanted: set) -> List[Dict[str, Any]]:
        return [step for step in self.pending if not wanted or step["handler"] in wanted]

    def _step_call(self, step_id: int, call: str, body: Dict[str, Any]) -> Answer:
        with self.cond:
            log = {"heartbeat": self.heartbeats, "complete": self.completes, "fail": self.fails}[call]
            log.setdefault(step_id, []).append(body)
            self.cond.notify_all()
            scripted = self.step_answers.get((step_id, call))
            if scripted:
                return scripted.pop(0)
            if call == "heartbeat" and step_id in self.lost:
                return conflict()
            if call == "heartbeat":
                return 200, {}, {"lease_expires_at": "2030-01-01T00:01:00Z"}
            return 200, {}, {}

    def _handler_class(self) -> type:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                with fake.cond:
                    fake.auth_headers.append(self.headers.get("Authorization"))
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    answer: Answer = problem(401, "unauthenticated", "a valid bearer token is required")
                elif self.path == "/v1/worker/claim":
                    answer = fake._claim(body)
                else:
                    match = STEP_ROUTE.match(self.path)
                    if match is None:
                        answer = problem(404, "not-found", f"no route {self.path}")
                    else:
                        answer = fake._step_call(int(match.group(1)), match.group(2), body)
                self._send(*answer)

            def _send(self, status: int, headers: Dict[str, str], body: Any) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                content_type = "application/problem+json" if status >= 400 else "application/json"
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(raw)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)

        return Handler


def problem(status: int, kind: str, detail: str, headers: Optional[Dict[str, str]] = None) -> Answer:
    body = {"type": f"https://tasker.dev/problems/{kind}", "title": kind, "status": status, "detail": detail}
    return status, headers or {}, body


def conflict() -> Answer:
    return problem(409, "lease-lost", "the lease of this step is no longer yours")


def unavailable(retry_after: str = "1") -> Answer:
    return problem(503, "unavailable", "the database is unavailable", {"Retry-After": retry_after})
