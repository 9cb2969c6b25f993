"""The control API's HTTP layer without FreeSWITCH: accounts, routing errors, the log line, the
no-5xx-after-effect rule, settings, and the SDK pointed at it by plivoxml_fs.client."""

from __future__ import annotations

import logging

import plivo.exceptions as px
import pytest
import requests
from werkzeug.routing import Map, Rule

from plivoxml_fs.api.server import ControlApp, ControlServer
from plivoxml_fs.client import rest_client
from plivoxml_fs.config import load_settings
from plivoxml_fs.errors import ConfigError

AUTH_ID, TOKEN = "MAPLIVOXMLFSTEST0001", "s3cr3t-token-value"


def _failing_after_effect(ctx, req):
    req.acted = True
    raise RuntimeError("answer could not be built")


def _failing_before_effect(ctx, req):
    raise RuntimeError("broke before acting")


def _echo(ctx, req):
    return 202, {"message": "ok", "params": req.params, "name": req.values.get("name", "")}


@pytest.fixture
def served():
    routes = Map([
        Rule("/v1/Account/<auth_id>/Conference/<name>/", methods=["POST"], endpoint=_echo),
        Rule("/v1/Account/<auth_id>/Conference/<name>/Member/<member_id>/Mute/",
             methods=["POST"], endpoint=_failing_after_effect),
        Rule("/v1/Account/<auth_id>/Conference/<name>/Member/<member_id>/Deaf/",
             methods=["POST"], endpoint=_failing_before_effect),
    ], strict_slashes=False)
    server = ControlServer(("127.0.0.1", 0), ControlApp(routes, {AUTH_ID: TOKEN}, None))
    server.start()
    host, port = server.address
    yield f"http://{host}:{port}"
    server.stop()


def test_sdk_through_the_adapter_reaches_the_daemon(served):
    client = rest_client(served, AUTH_ID, TOKEN)
    answer = client.request("POST", ("Conference", "My Conf Room"), {"a": 1},
                            is_voice_request=True)
    assert answer.message == "ok" and answer.name == "My Conf Room"
    assert answer.params.a == 1
    assert client.session.get_adapter("https://api.plivo.com/v1/").base_url == served
    # nothing global: a plain session still goes to Plivo's host
    assert not hasattr(requests.Session().get_adapter("https://api.plivo.com/"), "base_url")


def test_bad_credentials_are_401_and_the_token_is_never_logged(served, caplog):
    caplog.set_level(logging.INFO, logger="plivoxml_fs.api")
    url = f"{served}/v1/Account/{AUTH_ID}/Conference/r/"
    for auth in ((AUTH_ID, "wrong"), ("MAOTHERACCOUNT000000", TOKEN), None):
        reply = requests.post(url, json={}, auth=auth, timeout=5)
        assert reply.status_code == 401 and set(reply.json()) == {"api_id", "error"}
    other = requests.post(f"{served}/v1/Account/MAOTHERACCOUNT000000/Conference/r/", json={},
                          auth=(AUTH_ID, TOKEN), timeout=5)
    assert other.status_code == 401  # the path's account is not the one authenticated
    ok = requests.post(url, json={}, auth=(AUTH_ID, TOKEN), timeout=5)
    assert ok.status_code == 202
    lines = [r for r in caplog.records if r.name == "plivoxml_fs.api"]
    assert [r.getMessage().split()[-1] for r in lines] == ["401"] * 4 + ["202"]
    assert lines[-1].account == AUTH_ID and lines[0].account == "-"
    assert lines[-1].getMessage() == f"POST /v1/Account/{AUTH_ID}/Conference/r/ 202"
    assert all(TOKEN not in r.getMessage() and TOKEN not in str(vars(r)) for r in caplog.records)


def test_errors_405_404_and_no_5xx_once_it_took_effect(served, caplog):
    auth = (AUTH_ID, TOKEN)
    base = f"{served}/v1/Account/{AUTH_ID}/Conference/r"
    reply = requests.get(f"{base}/", auth=auth, timeout=5)
    assert reply.status_code == 405 and reply.headers["Allow"] == "POST"
    assert requests.get(f"{served}/v1/Account/{AUTH_ID}/Nothing/", auth=auth,
                        timeout=5).status_code == 404
    done = requests.post(f"{base}/Member/1/Mute/", json={}, auth=auth, timeout=5)
    assert done.status_code == 202 and "carried out" in done.json()["message"]
    failed = requests.post(f"{base}/Member/1/Deaf/", json={}, auth=auth, timeout=5)
    assert failed.status_code == 500 and "nothing was changed" in failed.json()["error"]
    bad = requests.post(f"{base}/", data=b"{not json", auth=auth, timeout=5)
    assert bad.status_code == 400 and bad.json()["error"] == "body: not JSON"


def test_sdk_errors_map_to_its_exceptions(served):
    client = rest_client(served, AUTH_ID, "wrong")
    with pytest.raises(px.AuthenticationError, match="authentication failed"):
        client.conferences.list()


def test_settings_of_the_api():
    good = f"{AUTH_ID}:{TOKEN},SAPLIVOXMLFSTEST0002:other"
    assert load_settings(environ={}, api_port=8095, api_auth=good).api_port == 8095
    with pytest.raises(ConfigError, match="api_auth lists no account"):
        load_settings(environ={}, api_port=8095)
    with pytest.raises(ConfigError) as bad_id:
        load_settings(environ={}, api_auth=f"XA123:{TOKEN}")
    assert "20 characters starting MA or SA" in str(bad_id.value)
    assert TOKEN not in str(bad_id.value)
    with pytest.raises(ConfigError, match="listed twice"):
        load_settings(environ={}, api_auth=f"{AUTH_ID}:a,{AUTH_ID}:b")
    with pytest.raises(ConfigError, match="api_default_account"):
        load_settings(environ={}, api_default_account="nope")
    assert "api_auth" not in repr(load_settings(environ={}, api_auth=good))


def test_no_change_is_tried_while_freeswitch_is_away(tmp_path):
    """503 before anything is sent (the SDK's three tries do no harm); once connected, 202."""
    from plivoxml_fs.api.conference import ApiContext
    from plivoxml_fs.api.routes import route_map
    from plivoxml_fs.config import Settings
    from plivoxml_fs.effects.history import HistoryStore
    from plivoxml_fs.rooms.model import RoomContext, RoomSettings, Seat
    from plivoxml_fs.rooms.registry import RoomEngine
    from plivoxml_fs.testing import FakeEdge, conference_event

    edge = FakeEdge()
    rooms = RoomEngine(RoomContext(Settings(), new_id=lambda: "x"), edge)
    settings = RoomSettings(max_members=20, time_limit_s=60, wait_sound=None, record=False,
                            record_file_format="mp3")
    room, _ = rooms.join(Seat(name="sales", call_uuid="a", settings=settings, scope=AUTH_ID))
    rooms.on_event(conference_event("add-member", room.fs_name, uid="u1", member_id=5, uuid="a"))
    up = [False]
    context = ApiContext(rooms, HistoryStore(":memory:", 60), lambda: 0.0,
                         connected=lambda: up[0])
    server = ControlServer(("127.0.0.1", 0), ControlApp(route_map(), {AUTH_ID: TOKEN}, context))
    server.start()
    try:
        host, port = server.address
        client = rest_client(f"http://{host}:{port}", AUTH_ID, TOKEN)
        edge.commands.clear()
        with pytest.raises(px.PlivoRestError, match="503"):
            client.conferences.member_mute("sales", "5")
        assert edge.commands == []
        assert client.conferences.get("sales").conference_member_count == "1"  # reads go on
        up[0] = True
        assert client.conferences.member_mute("sales", "5").message == "muted"
        assert edge.commands == [f"conference {room.fs_name} mute 5"]
    finally:
        server.stop()
