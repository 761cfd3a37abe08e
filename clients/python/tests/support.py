"""Helpers shared by the tests: a worker that records its pauses, and running one on a thread."""

from __future__ import annotations

import threading
import unittest
from typing import Any, List, Optional

from tasker_worker import Worker

from .fake_server import TOKEN, FakeTasker


class RecordingWorker(Worker):
    """A worker whose waits between tries are recorded and kept short, so tests do not sleep."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.pauses: List[float] = []
        self.paused = threading.Condition()

    def _pause(self, seconds: float) -> None:
        with self.paused:
            self.pauses.append(seconds)
            self.paused.notify_all()
        self._stop.wait(0.01)


class WorkerTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.fake = FakeTasker().start()
        self.addCleanup(self.fake.close)

    def make_worker(self, url: Optional[str] = None, token: str = TOKEN, **options: Any) -> RecordingWorker:
        settings = dict(queue="payments", name="w1", max=4, lease_ms=3000, wait_ms=50, timeout=5.0)
        settings.update(options)
        return RecordingWorker(url or self.fake.url, token, **settings)

    def start(self, worker: Worker) -> threading.Thread:
        """Run the worker on a thread; the test's clean-up stops it and waits for it."""
        errors: List[BaseException] = []

        def run() -> None:
            try:
                worker.run(install_signals=False)
            except BaseException as error:  # reported by the clean-up below
                errors.append(error)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        thread.errors = errors  # type: ignore[attr-defined]

        def finish() -> None:
            worker.stop()
            thread.join(30)
            if thread.is_alive():
                raise AssertionError("the worker did not stop within 30 s")

        self.addCleanup(finish)
        return thread

    def stop(self, worker: Worker, thread: threading.Thread) -> None:
        worker.stop()
        thread.join(30)
        self.assertFalse(thread.is_alive(), "the worker did not stop within 30 s")
        self.assertEqual(thread.errors, [])  # type: ignore[attr-defined]
