"""Heartbeats while a handler runs, and what a lost lease does."""

from __future__ import annotations

import time

from tasker_worker import Step

from .fake_server import unavailable
from .support import WorkerTestCase


class Heartbeats(WorkerTestCase):
    def test_a_running_handler_keeps_its_lease_with_heartbeats(self) -> None:
        worker = self.make_worker(lease_ms=1500)
        seen = []

        @worker.handler("long")
        def long(step: Step) -> str:
            seen.append(step)
            # Done only once the server has renewed the lease twice.
            self.fake.wait_for(lambda f: len(f.heartbeats.get(5, [])) >= 2)
            return "done"

        self.fake.add_step(5, "long")
        thread = self.start(worker)
        self.fake.wait_for(lambda f: 5 in f.completes)
        self.stop(worker, thread)

        for beat in self.fake.heartbeats[5]:
            self.assertEqual(beat, {"lease_token": "1:worker:w1:x", "lease_ms": 1500})
        self.assertEqual(self.fake.completes[5], [{"lease_token": "1:worker:w1:x", "result": "done"}])
        self.assertFalse(seen[0].lease_lost.is_set())

    def test_409_on_a_heartbeat_stops_the_heartbeat_and_drops_the_result(self) -> None:
        worker = self.make_worker(lease_ms=1500)
        lost = []

        @worker.handler("long")
        def long(step: Step) -> dict:
            lost.append(step.lease_lost.wait(20))
            return {"late": True}

        worker.add_handler("quick", lambda step: {"quick": True})
        self.fake.lost.add(9)
        self.fake.add_step(9, "long")
        with self.assertLogs("tasker_worker", "WARNING") as logs:
            thread = self.start(worker)
            self.fake.wait_for(lambda f: 9 in f.heartbeats)
            # The worker goes on with other steps.
            self.fake.add_step(10, "quick")
            self.fake.wait_for(lambda f: 10 in f.completes)
        self.stop(worker, thread)

        self.assertEqual(lost, [True])
        self.assertEqual(len(self.fake.heartbeats[9]), 1)
        self.assertNotIn(9, self.fake.completes)
        self.assertNotIn(9, self.fake.fails)
        self.assertTrue(any("lease lost" in line for line in logs.output), logs.output)

    def test_a_long_poll_longer_than_the_lease_does_not_lose_the_steps_it_brings(self) -> None:
        # The lease starts when the server claims, at the end of the wait, not when the claim
        # was sent.
        worker = self.make_worker(lease_ms=1000, wait_ms=5000)
        seen = []

        @worker.handler("quick")
        def quick(step: Step) -> dict:
            seen.append(step)
            return {"ok": True}

        thread = self.start(worker)
        self.fake.wait_for(lambda f: len(f.claims) == 1)
        # Longer than the lease: the claim is still waiting on the server.
        time.sleep(1.2)
        self.assertEqual(len(self.fake.claims), 1)
        self.fake.add_step(31, "quick")
        self.fake.wait_for(lambda f: 31 in f.completes or 31 in f.fails)
        self.fake.hurry()
        self.stop(worker, thread)

        self.assertEqual(self.fake.completes[31], [{"lease_token": "1:worker:w1:x", "result": {"ok": True}}])
        self.assertFalse(seen[0].lease_lost.is_set())

    def test_an_outcome_is_sent_again_while_the_server_is_away(self) -> None:
        worker = self.make_worker()
        worker.add_handler("ok", lambda step: {"ok": 1})
        self.fake.script_step(21, "complete", unavailable("0"), unavailable("0"))
        self.fake.add_step(21, "ok")
        with self.assertLogs("tasker_worker", "WARNING"):
            thread = self.start(worker)
            self.fake.wait_for(lambda f: len(f.completes.get(21, [])) == 3)
        self.stop(worker, thread)

        first, second, third = self.fake.completes[21]
        self.assertEqual(first, {"lease_token": "1:worker:w1:x", "result": {"ok": 1}})
        self.assertEqual(first, second)
        self.assertEqual(first, third)
