"""The control API's route table, in one place: path, verbs, handler (werkzeug.routing).

Paths are Plivo's, under `/v1/Account/<auth_id>/`, each with the trailing `/` the SDK always
sends (a path without it is redirected by werkzeug's strict slashes only for GET, so it is
served as written instead: `strict_slashes=False`). A path that matches with another verb
answers 405 with Allow; none matches: 404.

`MULTIPARTY_CALL` holds the `/MultiPartyCall/...` rules, handlers in api/mpc.py (adding a
participant: api/mpc_add.py) and objects in api/mpc_objects.py.
"""

from __future__ import annotations

from werkzeug.routing import Map, Rule

from plivoxml_fs.api import conference as c
from plivoxml_fs.api import mpc as m

ACCOUNT = "/v1/Account/<auth_id>"
CONF = f"{ACCOUNT}/Conference/<name>"
MEMBER = f"{CONF}/Member/<member_id>"

CONFERENCE = [
    Rule(f"{ACCOUNT}/Conference/", methods=["GET"], endpoint=c.list_conferences),
    Rule(f"{ACCOUNT}/Conference/", methods=["DELETE"], endpoint=c.hang_up_all),
    Rule(f"{CONF}/", methods=["GET"], endpoint=c.get_conference),
    Rule(f"{CONF}/", methods=["DELETE"], endpoint=c.hang_up_conference),
    Rule(f"{MEMBER}/", methods=["DELETE"], endpoint=c.hang_up_member),
    Rule(f"{MEMBER}/Mute/", methods=["POST"], endpoint=c.mute),
    Rule(f"{MEMBER}/Mute/", methods=["DELETE"], endpoint=c.unmute),
    Rule(f"{MEMBER}/Deaf/", methods=["POST"], endpoint=c.deaf),
    Rule(f"{MEMBER}/Deaf/", methods=["DELETE"], endpoint=c.undeaf),
    Rule(f"{MEMBER}/Kick/", methods=["POST"], endpoint=c.kick),
    Rule(f"{MEMBER}/Play/", methods=["POST"], endpoint=c.play),
    Rule(f"{MEMBER}/Play/", methods=["DELETE"], endpoint=c.stop_play),
    Rule(f"{MEMBER}/Speak/", methods=["POST"], endpoint=c.speak),
    Rule(f"{MEMBER}/Speak/", methods=["DELETE"], endpoint=c.stop_speak),
    Rule(f"{CONF}/Record/", methods=["POST"], endpoint=c.record),
    Rule(f"{CONF}/Record/", methods=["DELETE"], endpoint=c.record_stop),
]

MPC = f"{ACCOUNT}/MultiPartyCall/<mpc_id>"
PARTICIPANT = f"{MPC}/Participant/<member_id>"

#: `/v1/Account/<auth_id>/MultiPartyCall/...`; `<mpc_id>` is uuid_<uuid> or name_<name>.
MULTIPARTY_CALL = [
    Rule(f"{ACCOUNT}/MultiPartyCall/", methods=["GET"], endpoint=m.list_mpcs),
    Rule(f"{MPC}/", methods=["GET"], endpoint=m.get_mpc),
    Rule(f"{MPC}/", methods=["POST"], endpoint=m.start_mpc),
    Rule(f"{MPC}/", methods=["DELETE"], endpoint=m.stop_mpc),
    Rule(f"{MPC}/Participant/", methods=["GET"], endpoint=m.list_participants),
    Rule(f"{MPC}/Participant/", methods=["POST"], endpoint=m.add_participant),
    Rule(f"{PARTICIPANT}/", methods=["GET"], endpoint=m.get_participant),
    Rule(f"{PARTICIPANT}/", methods=["POST"], endpoint=m.update_participant),
    Rule(f"{PARTICIPANT}/", methods=["DELETE"], endpoint=m.kick_participant),
    Rule(f"{MPC}/Record/", methods=["POST"], endpoint=m.start_recording),
    Rule(f"{MPC}/Record/", methods=["DELETE"], endpoint=m.stop_recording),
    Rule(f"{MPC}/Record/Pause/", methods=["POST"], endpoint=m.pause_recording),
    Rule(f"{MPC}/Record/Resume/", methods=["POST"], endpoint=m.resume_recording),
    Rule(f"{PARTICIPANT}/Record/", methods=["POST"], endpoint=m.start_participant_recording),
    Rule(f"{PARTICIPANT}/Record/", methods=["DELETE"], endpoint=m.stop_participant_recording),
    Rule(f"{PARTICIPANT}/Record/Pause/", methods=["POST"],
         endpoint=m.pause_participant_recording),
    Rule(f"{PARTICIPANT}/Record/Resume/", methods=["POST"],
         endpoint=m.resume_participant_recording),
    Rule(f"{MPC}/Member/<member_id>/Play/", methods=["POST"], endpoint=m.play),
    Rule(f"{MPC}/Member/<member_id>/Play/", methods=["DELETE"], endpoint=m.stop_play),
]


def route_map() -> Map:
    """A Map of the table (a Rule binds to one Map: each gets copies)."""
    return Map([rule.empty() for rule in (*CONFERENCE, *MULTIPARTY_CALL)],
               strict_slashes=False, merge_slashes=False)
