"""The MPC scenarios use the conference scene (tests/conference/scene.py) on the embedded
FreeSWITCH, with MPC time (maxDuration, waitTime) 100 times shorter."""

from __future__ import annotations

from conference.conftest import TIME_SCALE, scene  # noqa: F401  (the fixture)

#: Wall seconds per MPC second in these scenarios (Settings.mpc_time_scale).
MPC_TIME_SCALE = 0.01
__all__ = ["MPC_TIME_SCALE", "TIME_SCALE", "scene"]
