"""The worker process of .ci/python-workers.

Prints `start STEP_ID ATTEMPT` when a handler begins and `end STEP_ID ATTEMPT` when it returns
(stdout, one flushed line each), so that the script can kill it while a step is running and then
tell which steps it was in the middle of. Usage: worker.py URL QUEUE NAME LEASE_MS MAX, with the
token in TASKER_WORKER_TOKEN. With HOLD_FILE set, a handler that starts while that file exists
does not return until its lease is lost: the script holds the worker mid-step to kill it there.
"""

from __future__ import annotations

import logging
import os
import random
import sys
import threading

from tasker_worker import PermanentError, Step, Worker

out = threading.Lock()


def mark(event: str, step: Step) -> None:
    with out:
        sys.stdout.write(f"{event} {step.step_id} {step.attempt}\n")
        sys.stdout.flush()


def main() -> None:
    url, queue, name, lease_ms, max_steps = sys.argv[1:6]
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {name} %(levelname)s %(message)s")
    worker = Worker(
        url,
        os.environ["TASKER_WORKER_TOKEN"],
        queue=queue,
        name=name,
        max=int(max_steps),
        lease_ms=int(lease_ms),
        wait_ms=2000,
    )

    hold_file = os.environ.get("HOLD_FILE")

    def work(step: Step) -> None:
        mark("start", step)
        if hold_file and os.path.exists(hold_file):
            step.lease_lost.wait(600)
        # A little work, so that the steps of both workers interleave.
        step.lease_lost.wait(random.uniform(0.02, 0.06))

    @worker.handler("charge_card")
    def charge_card(step: Step) -> dict:
        work(step)
        mark("end", step)
        return {"charged": step.context["order"]}

    @worker.handler("reserve_stock")
    def reserve_stock(step: Step) -> dict:
        work(step)
        mark("end", step)
        return {"reserved": step.context["order"]}

    @worker.handler("send_receipt")
    def send_receipt(step: Step) -> dict:
        work(step)
        charged = step.parent_results.get("charge", {}).get("charged")
        if charged != step.context["order"]:
            # The parent's result did not come through: the script sees a blocked task.
            raise PermanentError(f"charge result {step.parent_results!r} does not match the order")
        mark("end", step)
        return {"receipt": f"order-{charged}"}

    worker.run()


if __name__ == "__main__":
    main()
