"""What a handler is given: one claimed attempt of one step."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping


@dataclass
class Step:
    """One attempt of a queue step, as the claim answered it.

    ``lease_lost`` is set when this worker no longer holds the step (the server answered 409 to
    a heartbeat, or no heartbeat got through for most of a lease): the step may already be
    running elsewhere, and whatever this attempt returns will be dropped. A long handler should
    check it between pieces of work, and wait on it instead of ``time.sleep``.
    """

    step_id: int
    task_id: int
    attempt: int
    handler: str
    name: str
    context: Any
    config: Any
    parent_results: Dict[str, Any]
    lease_token: str
    lease_expires_at: str
    lease_lost: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)

    @classmethod
    def from_claim(cls, item: Mapping[str, Any]) -> "Step":
        try:
            return cls(
                step_id=int(item["step_id"]),
                task_id=int(item["task_id"]),
                attempt=int(item["attempt"]),
                handler=str(item["handler"]),
                name=str(item["name"]),
                context=item.get("context"),
                config=item.get("config"),
                parent_results=dict(item.get("parent_results") or {}),
                lease_token=str(item["lease_token"]),
                lease_expires_at=str(item.get("lease_expires_at", "")),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"claimed step is malformed ({error!r}): {dict(item)!r}") from None
