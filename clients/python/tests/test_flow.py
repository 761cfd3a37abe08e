"""Claims, completions and failures against the fake server."""

from __future__ import annotations

import threading

from tasker_worker import PermanentError, RetryAfter, Step, WorkerError

from .fake_server import TOKEN, conflict
from .support import WorkerTestCase


class ClaimAndComplete(WorkerTestCase):
    def test_a_claimed_step_runs_its_handler_and_completes_with_the_result(self) -> None:
        worker = self.make_worker()
        seen = []

        @worker.handler("charge_card")
        def charge(step: Step) -> dict:
            seen.append(step)
            return {"charged": step.context["amount"], "currency": step.config["currency"]}

        @worker.handler("refund")
        def refund(step: Step) -> dict:
            return {}

        self.fake.add_step(
            7,
            "charge_card",
            task_id=3,
            attempt=2,
            name="charge",
            context={"amount": 42},
            config={"currency": "EUR"},
            parent_results={"validate": {"ok": True}},
        )
        thread = self.start(worker)
        self.fake.wait_for(lambda f: 7 in f.completes)
        self.stop(worker, thread)

        self.assertEqual(
            self.fake.claims[0],
            {
                "queue": "payments",
                "handlers": ["charge_card", "refund"],
                "max": 4,
                "wait_ms": 50,
                "lease_ms": 3000,
                "worker": "w1",
            },
        )
        self.assertEqual(
            self.fake.completes[7],
            [{"lease_token": "2:worker:w1:x", "result": {"charged": 42, "currency": "EUR"}}],
        )
        (step,) = seen
        self.assertEqual(
            (step.step_id, step.task_id, step.attempt, step.name, step.handler),
            (7, 3, 2, "charge", "charge_card"),
        )
        self.assertEqual(step.parent_results, {"validate": {"ok": True}})
        self.assertFalse(step.lease_lost.is_set())
        self.assertEqual(self.fake.fails, {})
        self.assertEqual(set(self.fake.auth_headers), {f"Bearer {TOKEN}"})

    def test_no_more_than_max_steps_run_at_once_and_claims_ask_only_for_free_slots(self) -> None:
        worker = self.make_worker(max=2)
        lock = threading.Condition()
        running = [0]
        peak = [0]
        release = threading.Event()

        @worker.handler("slow")
        def slow(step: Step) -> dict:
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
                lock.notify_all()
            release.wait(20)
            with lock:
                running[0] -= 1
            return {"step": step.step_id}

        for step_id in (1, 2, 3, 4, 5):
            self.fake.add_step(step_id, "slow")
        thread = self.start(worker)
        # Two are taken at once; the others wait on the server until a slot frees up.
        with lock:
            self.assertTrue(lock.wait_for(lambda: running[0] == 2, 20))
        self.assertEqual(len(self.fake.pending), 3)
        release.set()
        self.fake.wait_for(lambda f: len(f.completes) == 5)
        self.stop(worker, thread)

        self.assertEqual(peak[0], 2)
        self.assertTrue(all(1 <= claim["max"] <= 2 for claim in self.fake.claims), self.fake.claims)
        self.assertEqual({k: v[0]["result"] for k, v in self.fake.completes.items()}, {i: {"step": i} for i in range(1, 6)})

    def test_a_refused_claim_stops_the_worker_with_an_error(self) -> None:
        worker = self.make_worker(token="tsk_wrong")
        worker.add_handler("charge_card", lambda step: {})
        with self.assertLogs("tasker_worker", "ERROR"):
            with self.assertRaises(WorkerError) as raised:
                worker.run(install_signals=False)
        self.assertEqual(raised.exception.status, 401)
        self.assertIn("bearer token", str(raised.exception))
        self.assertEqual(len(self.fake.claims), 0)


class Failures(WorkerTestCase):
    def test_exceptions_map_to_fail_calls(self) -> None:
        worker = self.make_worker()

        @worker.handler("flaky")
        def flaky(step: Step) -> None:
            raise ValueError("card network timed out")

        @worker.handler("declined")
        def declined(step: Step) -> None:
            raise PermanentError("card reported stolen")

        @worker.handler("limited")
        def limited(step: Step) -> None:
            raise RetryAfter(2.5, "rate limited by the bank")

        @worker.handler("not_json")
        def not_json(step: Step) -> object:
            return {"when": object()}

        @worker.handler("nan")
        def nan(step: Step) -> float:
            return float("nan")

        for step_id, handler in enumerate(["flaky", "declined", "limited", "not_json", "nan"], start=1):
            self.fake.add_step(step_id, handler)
        with self.assertLogs("tasker_worker", "INFO"):
            thread = self.start(worker)
            self.fake.wait_for(lambda f: len(f.fails) == 5)
        self.stop(worker, thread)

        fails = {step_id: calls[0] for step_id, calls in self.fake.fails.items()}
        self.assertEqual(
            fails[1], {"lease_token": "1:worker:w1:x", "error": "ValueError: card network timed out", "retryable": True}
        )
        self.assertEqual(
            fails[2], {"lease_token": "1:worker:w1:x", "error": "card reported stolen", "retryable": False}
        )
        self.assertEqual(
            fails[3],
            {
                "lease_token": "1:worker:w1:x",
                "error": "rate limited by the bank",
                "retryable": True,
                "retry_after_ms": 2500,
            },
        )
        for step_id in (4, 5):
            self.assertFalse(fails[step_id]["retryable"])
            self.assertTrue(fails[step_id]["error"].startswith("the handler's result is not JSON"), fails[step_id])
        self.assertEqual(self.fake.completes, {})

    def test_409_on_complete_or_fail_is_logged_and_dropped_and_the_worker_goes_on(self) -> None:
        worker = self.make_worker()
        worker.add_handler("ok", lambda step: {"ok": True})

        def broken(step: Step) -> None:
            raise RuntimeError("broken")

        worker.add_handler("broken", broken)
        self.fake.script_step(11, "complete", conflict())
        self.fake.script_step(12, "fail", conflict())
        self.fake.add_step(11, "ok")
        self.fake.add_step(12, "broken")
        with self.assertLogs("tasker_worker", "WARNING") as logs:
            thread = self.start(worker)
            self.fake.wait_for(lambda f: 11 in f.completes and 12 in f.fails)
            self.fake.add_step(13, "ok")
            self.fake.wait_for(lambda f: 13 in f.completes)
        self.stop(worker, thread)

        self.assertEqual(len(self.fake.completes[11]), 1)
        self.assertEqual(len(self.fake.fails[12]), 1)
        dropped = [line for line in logs.output if "outcome dropped" in line]
        self.assertEqual(len(dropped), 2, logs.output)

    def test_a_refused_result_fails_the_step_permanently(self) -> None:
        worker = self.make_worker()
        worker.add_handler("big", lambda step: {"blob": "x" * 100})
        self.fake.script_step(
            14,
            "complete",
            (413, {}, {"type": "https://tasker.dev/problems/too-large", "status": 413, "detail": "body too large"}),
        )
        self.fake.add_step(14, "big")
        with self.assertLogs("tasker_worker", "ERROR"):
            thread = self.start(worker)
            self.fake.wait_for(lambda f: 14 in f.fails)
        self.stop(worker, thread)

        self.assertEqual(len(self.fake.completes[14]), 1)
        (fail,) = self.fake.fails[14]
        self.assertFalse(fail["retryable"])
        self.assertIn("body too large", fail["error"])
