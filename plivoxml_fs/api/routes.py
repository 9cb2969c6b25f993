"""The control API's route table, in one place: path, verbs, handler (werkzeug.routing).

Paths are Plivo's, under `/v1/Account/<auth_id>/`, each with the trailing `/` the SDK always
sends (a path without it is redirected by werkzeug's strict slashes only for GET, so it is
served as written instead: `strict_slashes=False`). A path that matches with another verb
answers 405 with Allow; none matches: 404.

`MULTIPARTY_CALL` is where the `/MultiPartyCall/...` rules go (next increment), handlers in
api/mpc.py and objects in api/objects.py, beside the Conference ones.
"""

from __future__ import annotations

from werkzeug.routing import Map, Rule

from plivoxml_fs.api import conference as c

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

#: `/v1/Account/<auth_id>/MultiPartyCall/...` (the next increment).
MULTIPARTY_CALL: list[Rule] = []


def route_map() -> Map:
    """A Map of the table (a Rule binds to one Map: each gets copies)."""
    return Map([rule.empty() for rule in (*CONFERENCE, *MULTIPARTY_CALL)],
               strict_slashes=False, merge_slashes=False)
