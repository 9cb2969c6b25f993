"""The control API's HTTP layer without FreeSWITCH: accounts, routing errors, the log line, the
no-5xx-after-effect rule, settings, and the SDK pointed at it by plivoxml_fs.client."""

from __future__ import annotations

import json
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


def _own_callback(ctx, req):
    return 202, {"message": "recording", "callback": req.params.get("callback_url", "")}


_own_callback.own_callback_url = True


@pytest.fixture
def served_async():
    """The echo and failing routes with an outbox stand-in: asynchronous answers land here."""
    routes = Map([
        Rule("/v1/Account/<auth_id>/Conference/<name>/", methods=["POST"], endpoint=_echo),
        Rule("/v1/Account/<auth_id>/Conference/<name>/Record/", methods=["POST"],
             endpoint=_own_callback),
        Rule("/v1/Account/<auth_id>/Conference/<name>/Member/<member_id>/Mute/",
             methods=["POST"], endpoint=_failing_after_effect),
        Rule("/v1/Account/<auth_id>/Conference/<name>/Member/<member_id>/Deaf/",
             methods=["POST"], endpoint=_failing_before_effect),
    ], strict_slashes=False)
    emitted: list = []
    server = ControlServer(("127.0.0.1", 0), ControlApp(routes, {AUTH_ID: TOKEN}, None,
                                                        emit=emitted.append))
    server.start()
    host, port = server.address
    yield f"http://{host}:{port}", emitted
    server.stop()


def _wait_for(emitted, n):
    import gevent

    with gevent.Timeout(5, AssertionError(f"{n} asynchronous answers never came: {emitted}")):
        while len(emitted) < n:
            gevent.sleep(0.01)
    return emitted[n - 1]


def test_an_asynchronous_request_is_answered_at_once_and_its_answer_posted(served_async):
    """Plivo's callback_url: 202 "async api spawned" with the api_id; the handler's answer goes
    to the outbox for callback_url, with that api_id, its status and its fields as text."""
    base, emitted = served_async
    client = rest_client(base, AUTH_ID, TOKEN)
    answer = client.request("POST", ("Conference", "Room A"),
                            {"a": 1, "flag": True, "list": [1, "x"],
                             "callback_url": "https://app.example.com/async"},
                            is_voice_request=True)
    assert answer.message == "async api spawned" and answer.api_id
    webhook = _wait_for(emitted, 1)
    assert (webhook.url, webhook.method, webhook.kind) == (
        "https://app.example.com/async", "POST", "api_answer")
    params = dict(webhook.params)
    assert params["api_id"] == answer.api_id and params["status_code"] == "202"
    assert params["message"] == "ok" and params["name"] == "Room A"
    # the handler saw its own parameters, not the answer's way back
    assert json.loads(params["params"]) == {"a": 1, "flag": True, "list": [1, "x"]}
    got = requests.post(f"{base}/v1/Account/{AUTH_ID}/Conference/r/",
                        json={"callback_url": "http://app/cb", "callback_method": "get"},
                        auth=(AUTH_ID, TOKEN), timeout=5)
    assert got.status_code == 202 and got.json()["message"] == "async api spawned"
    assert _wait_for(emitted, 2).method == "GET"


def test_asynchronous_failures_are_in_the_answer_and_bad_callbacks_refused_at_once(served_async):
    base, emitted = served_async
    auth = (AUTH_ID, TOKEN)
    member = f"{base}/v1/Account/{AUTH_ID}/Conference/r/Member/1"
    for n, (path, status, text) in enumerate((("Deaf", "500", "nothing was changed"),
                                              ("Mute", "202", "carried out")), 1):
        reply = requests.post(f"{member}/{path}/", json={"callback_url": "http://app/cb"},
                              auth=auth, timeout=5)
        assert reply.status_code == 202, reply.text
        params = dict(_wait_for(emitted, n).params)
        assert params["status_code"] == status
        assert text in params.get("error", params.get("message", ""))
    for body, named in (({"callback_url": "ftp://app/cb"}, "callback_url"),
                        ({"callback_url": "http://app/cb", "callback_method": "PUT"},
                         "callback_method")):
        reply = requests.post(f"{base}/v1/Account/{AUTH_ID}/Conference/r/", json=body,
                              auth=auth, timeout=5)
        assert reply.status_code == 400 and reply.json()["error"].startswith(f"{named}:")
    # an empty callback_url: an ordinary request
    plain = requests.post(f"{base}/v1/Account/{AUTH_ID}/Conference/r/",
                          json={"callback_url": ""}, auth=auth, timeout=5)
    assert plain.status_code == 202 and plain.json()["message"] == "ok"
    # where callback_url is the route's own (the Record API), it is no asynchronous request
    own = requests.post(f"{base}/v1/Account/{AUTH_ID}/Conference/r/Record/",
                        json={"callback_url": "http://app/rec"}, auth=auth, timeout=5)
    assert own.json() == {"api_id": own.json()["api_id"], "message": "recording",
                          "callback": "http://app/rec"}
    assert len(emitted) == 2


def test_no_asynchronous_answer_without_an_outbox(served):
    reply = requests.post(f"{served}/v1/Account/{AUTH_ID}/Conference/r/",
                          json={"callback_url": "http://app/cb"}, auth=(AUTH_ID, TOKEN),
                          timeout=5)
    assert reply.status_code == 400 and "outbox" in reply.json()["error"]


def test_stop_lets_an_asynchronous_request_finish_and_post_its_answer():
    """An asynchronous request answered before stop is carried out and its answer queued."""
    import gevent

    started = gevent.event.Event()

    def slow(ctx, req):
        started.set()
        gevent.sleep(0.3)
        return 202, {"message": "done late"}

    routes = Map([Rule("/v1/Account/<auth_id>/Conference/<name>/", methods=["POST"],
                       endpoint=slow)], strict_slashes=False)
    emitted: list = []
    server = ControlServer(("127.0.0.1", 0), ControlApp(routes, {AUTH_ID: TOKEN}, None,
                                                        emit=emitted.append))
    server.start()
    host, port = server.address
    reply = requests.post(f"http://{host}:{port}/v1/Account/{AUTH_ID}/Conference/r/",
                          json={"callback_url": "http://app/cb"}, auth=(AUTH_ID, TOKEN),
                          timeout=5)
    assert reply.json()["message"] == "async api spawned"
    started.wait(5)
    server.stop()
    assert [dict(w.params)["message"] for w in emitted] == ["done late"]


def test_asynchronous_requests_beyond_the_bound_are_429_and_not_done():
    """A flood of callback_url requests cannot pile up greenlets: past max_async_pending the
    answer is 429 (nothing done, no answer posted); synchronous requests still go through,
    and once the running ones end new asynchronous ones are taken again."""
    import gevent

    release = gevent.event.Event()
    ran: list[str] = []

    def held(ctx, req):
        ran.append(req.params.get("n", ""))
        if req.params.get("hold") == "yes":
            release.wait(5)
        return 202, {"message": "done"}

    routes = Map([Rule("/v1/Account/<auth_id>/Conference/<name>/", methods=["POST"],
                       endpoint=held)], strict_slashes=False)
    emitted: list = []
    app = ControlApp(routes, {AUTH_ID: TOKEN}, None, emit=emitted.append)
    app.max_async_pending = 3
    server = ControlServer(("127.0.0.1", 0), app)
    server.start()
    host, port = server.address
    url = f"http://{host}:{port}/v1/Account/{AUTH_ID}/Conference/r/"

    def post(n, callback=True):
        body = {"n": str(n), "hold": "yes" if n < 3 else "no",
                **({"callback_url": "http://app/cb"} if callback else {})}
        return requests.post(url, json=body, auth=(AUTH_ID, TOKEN), timeout=5)

    try:
        assert [post(n).status_code for n in range(3)] == [202, 202, 202]
        refused = post(3)
        assert refused.status_code == 429
        assert "3 asynchronous requests are being carried out" in refused.json()["error"]
        assert post(4, callback=False).status_code == 202  # synchronous: answered, done
        assert sorted(ran) == ["0", "1", "2", "4"]  # 3 was never run
        release.set()
        _wait_for(emitted, 3)
        assert post(5).status_code == 202
        _wait_for(emitted, 4)
    finally:
        release.set()
        server.stop()
    assert "3" not in ran
