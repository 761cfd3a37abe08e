"""Graceful stop: a signal stops the claims, running steps finish and report, then run returns."""

from __future__ import annotations

import os
import signal
import threading
import time

from tasker_worker import Step, Worker

from .support import WorkerTestCase


class GracefulStop(WorkerTestCase):
    def test_sigterm_stops_claiming_and_finishes_the_running_step(self) -> None:
        # max=1: while the step runs the worker waits for a slot, so no claim is in flight when
        # the signal comes and the step added afterwards must stay unclaimed.
        worker = self.make_worker(max=1)
        started = threading.Event()
        release = threading.Event()

        @worker.handler("slow")
        def slow(step: Step) -> dict:
            started.set()
            release.wait(20)
            return {"finished": step.step_id}

        self.fake.add_step(30, "slow")
        before = signal.getsignal(signal.SIGTERM)
        problems = []

        def operator() -> None:
            try:
                if not started.wait(20):
                    problems.append("the step never started")
                    return
                os.kill(os.getpid(), signal.SIGTERM)
                deadline = time.monotonic() + 20
                while not worker.stopping and time.monotonic() < deadline:
                    time.sleep(0.01)
                if not worker.stopping:
                    problems.append("SIGTERM did not stop the worker")
                self.fake.add_step(31, "slow")
            finally:
                release.set()

        helper = threading.Thread(target=operator)
        helper.start()
        with self.assertLogs("tasker_worker", "INFO") as logs:
            worker.run()  # on the main thread, so it installs its signal handlers
        helper.join(30)

        self.assertEqual(problems, [])
        self.assertEqual(self.fake.completes[30][0]["result"], {"finished": 30})
        self.assertEqual([step["step_id"] for step in self.fake.pending], [31])
        self.assertIs(signal.getsignal(signal.SIGTERM), before)
        self.assertTrue(any("SIGTERM received" in line for line in logs.output), logs.output)

    def test_stop_from_another_thread_returns_once_running_steps_reported(self) -> None:
        worker = self.make_worker(max=3)
        started = threading.Semaphore(0)
        release = threading.Event()

        @worker.handler("slow")
        def slow(step: Step) -> int:
            started.release()
            release.wait(20)
            return step.step_id

        for step_id in (40, 41):
            self.fake.add_step(step_id, "slow")
        thread = self.start(worker)
        self.assertTrue(started.acquire(timeout=20) and started.acquire(timeout=20))
        worker.stop()
        self.assertTrue(thread.is_alive())
        release.set()
        thread.join(30)
        self.assertFalse(thread.is_alive())
        self.assertEqual(sorted(self.fake.completes), [40, 41])


class Settings(WorkerTestCase):
    def test_bad_settings_and_handlers_are_refused_with_their_name(self) -> None:
        with self.assertRaisesRegex(ValueError, "max must be an integer of 1 or more"):
            Worker(self.fake.url, "t", "q", max=0)
        with self.assertRaisesRegex(ValueError, "lease_ms must be an integer from 1000 to 3600000, got 999"):
            Worker(self.fake.url, "t", "q", lease_ms=999)
        with self.assertRaisesRegex(ValueError, "wait_ms must be an integer from 0 to 60000"):
            Worker(self.fake.url, "t", "q", wait_ms=60_001)
        with self.assertRaisesRegex(ValueError, "queue must be"):
            Worker(self.fake.url, "t", "")
        with self.assertRaisesRegex(ValueError, "queue must be"):
            Worker(self.fake.url, "t", "pay ments")
        with self.assertRaisesRegex(ValueError, "name must be"):
            Worker(self.fake.url, "t", "q", name="a/b")
        with self.assertRaisesRegex(ValueError, "base_url"):
            Worker("localhost:8080", "t", "q")
        worker = Worker(self.fake.url, "t", "q")
        worker.add_handler("a", lambda step: None)
        with self.assertRaisesRegex(ValueError, "'a' is registered twice"):
            worker.add_handler("a", lambda step: None)
        with self.assertRaisesRegex(ValueError, "no control characters"):
            worker.add_handler("a\nb", lambda step: None)
        with self.assertRaisesRegex(ValueError, "register at least one handler"):
            Worker(self.fake.url, "t", "q").run(install_signals=False)

    def test_a_malformed_claimed_step_is_named_in_the_error(self) -> None:
        with self.assertRaisesRegex(ValueError, "lease_token"):
            Step.from_claim({"step_id": 1, "task_id": 2, "attempt": 1, "handler": "h", "name": "n"})
