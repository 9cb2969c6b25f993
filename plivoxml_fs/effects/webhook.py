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
    """One callback: where, how, what, for which call, and what kind (hangup, action, ...)."""

    url: str
    method: str
    params: Mapping[str, str] = attrs.field(converter=_frozen_params)
    call_uuid: str
    kind: str

    def __attrs_post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(
                f"{self.kind} callback for call {self.call_uuid}: method must be GET or POST "
                f"(got {self.method!r})"
            )
