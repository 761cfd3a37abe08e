"""Backing off while the server is away: the schedule, Retry-After, and the claim loop."""

from __future__ import annotations

import socket
import unittest

from tasker_worker import Backoff, parse_retry_after

from .fake_server import unavailable
from .support import WorkerTestCase


class Schedule(unittest.TestCase):
    def test_delays_double_up_to_the_cap_and_stay_in_the_upper_half(self) -> None:
        low = Backoff(base=0.5, factor=2, cap=3, rand=lambda: 0.0)
        high = Backoff(base=0.5, factor=2, cap=3, rand=lambda: 0.999999)
        self.assertEqual([low.next() for _ in range(5)], [0.25, 0.5, 1.0, 1.5, 1.5])
        self.assertEqual([round(high.next(), 3) for _ in range(5)], [0.5, 1.0, 2.0, 3.0, 3.0])

    def test_retry_after_wins_over_a_shorter_delay_and_the_count_still_grows(self) -> None:
        backoff = Backoff(base=0.5, rand=lambda: 0.0)
        self.assertEqual(backoff.next(retry_after=4), 4.0)
        self.assertEqual(backoff.failures, 1)
        jittered = Backoff(base=0.5, rand=lambda: 1.0)
        self.assertAlmostEqual(jittered.next(retry_after=4), 4.4)

    def test_reset_starts_again_from_the_base(self) -> None:
        backoff = Backoff(base=1, rand=lambda: 0.0)
        backoff.next()
        backoff.next()
        backoff.reset()
        self.assertEqual(backoff.next(), 0.5)

    def test_bad_settings_are_refused(self) -> None:
        with self.assertRaisesRegex(ValueError, "base > 0"):
            Backoff(base=0)

    def test_retry_after_is_read_as_seconds_or_as_an_http_date(self) -> None:
        self.assertEqual(parse_retry_after("120"), 120.0)
        date = "Wed, 21 Oct 2015 07:28:00 GMT"
        self.assertEqual(parse_retry_after(date, now=1445412480 - 30), 30.0)
        self.assertEqual(parse_retry_after(date, now=1445412480 + 30), 0.0)
        self.assertIsNone(parse_retry_after("soon"))
        self.assertIsNone(parse_retry_after(None))


class ClaimLoop(WorkerTestCase):
    def test_503_with_retry_after_makes_the_worker_wait_then_it_goes_on(self) -> None:
        worker = self.make_worker()
        worker.add_handler("ok", lambda step: {"ok": True})
        self.fake.claim_answers = [unavailable("2"), unavailable("3")]
        self.fake.add_step(20, "ok")
        with self.assertLogs("tasker_worker", "WARNING"):
            thread = self.start(worker)
            self.fake.wait_for(lambda f: 20 in f.completes)
        self.stop(worker, thread)

        self.assertEqual(len(worker.pauses), 2)
        self.assertTrue(2.0 <= worker.pauses[0] <= 2.2, worker.pauses)
        self.assertTrue(3.0 <= worker.pauses[1] <= 3.3, worker.pauses)
        self.assertEqual(worker.backoff.failures, 0)

    def test_an_unreachable_server_is_tried_again_with_growing_delays(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        # Nothing listens on the port any more: every claim is a connection error.
        worker = self.make_worker(url=f"http://127.0.0.1:{port}")
        worker.add_handler("ok", lambda step: {})
        with self.assertLogs("tasker_worker", "WARNING") as logs:
            thread = self.start(worker)
            with worker.paused:
                self.assertTrue(worker.paused.wait_for(lambda: len(worker.pauses) >= 5, 20))
        self.stop(worker, thread)

        ceilings = [0.2, 0.4, 0.8, 1.6, 3.2]
        for delay, ceiling in zip(worker.pauses, ceilings):
            self.assertTrue(ceiling / 2 <= delay <= ceiling, (worker.pauses, ceilings))
        self.assertIn("claim failed", logs.output[0])
