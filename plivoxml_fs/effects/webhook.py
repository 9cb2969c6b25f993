"""The `Webhook` value verbs, rooms and the driver emit; plain Python so they can build it."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

#: Methods a callback may use.
METHODS = ("GET", "POST")


def _frozen_params(value: Mapping[str, str]) -> Mapping[str, str]:
    return dict(value)


@attrs.frozen
class Webhook:
    """One callback: where, how, what, for which call, and what kind (hangup, action, ...).

    `order_key`: webhooks with the same key are delivered one after another in emit order
    ("" = the call's uuid: per-call order); one MPC's status callbacks share theirs whichever
    participant's call they come from."""

    url: str
    method: str
    params: Mapping[str, str] = attrs.field(converter=_frozen_params)
    call_uuid: str
    kind: str
    order_key: str = ""

    @property
    def key(self) -> str:
        """What the outbox orders this webhook by."""
        return self.order_key or self.call_uuid

    def __attrs_post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(
                f"{self.kind} callback for call {self.call_uuid}: method must be GET or POST "
                f"(got {self.method!r})"
            )
