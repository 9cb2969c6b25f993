"""Adding a participant to an MPC by API (`POST .../MultiPartyCall/{mpc_id}/Participant/`).

Not served yet: the request is answered 400 naming what is missing, and nothing changes.
"""

from __future__ import annotations

from plivoxml_fs.api.server import ApiError


def add_participant(ctx, req):
    raise ApiError(400, "role: adding a participant by API is not supported by this daemon "
                        "yet (nothing was changed)")
