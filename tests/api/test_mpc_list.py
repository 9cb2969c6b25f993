"""The MPC list through the official SDK: pages (`meta` as the SDK follows it), filters, and
the SDK's own iteration; ended MPCs from a history file, no FreeSWITCH needed."""

from __future__ import annotations

import types

import plivo.exceptions as px
import pytest
import requests

from api.api_scenarios import ACCOUNT_A, ACCOUNT_B, API_AUTH, TOKEN_A, TOKEN_B
from plivoxml_fs.api.conference import ApiContext
from plivoxml_fs.api.objects import timestamp
from plivoxml_fs.api.routes import route_map
from plivoxml_fs.api.server import ControlApp, ControlServer
from plivoxml_fs.client import rest_client
from plivoxml_fs.config import api_accounts
from plivoxml_fs.effects.history import HistoryStore

START = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC
COUNT = 25


def _body(n: int) -> dict:
    created = START + n * 60
    return {"mpc_uuid": f"uuid-{n:02d}", "friendly_name": f"mpc-{n % 3}", "status": "Ended",
            "creation_time": timestamp(created), "end_time": timestamp(created + 30),
            "termination_cause_code": 3000 if n % 2 else 1000,
            "participants_list": []}


@pytest.fixture
def api(tmp_path):
    history = HistoryStore(str(tmp_path / "history.sqlite3"), retention_s=1e12)
    for n in range(COUNT):
        body = _body(n)
        history.add("multipartycall", ACCOUNT_A, body["friendly_name"], body["mpc_uuid"],
                    START + n * 60 + 30, body)
    rooms = types.SimpleNamespace(made=lambda account, kind: [])  # a room engine with none
    app = ControlApp(route_map(), api_accounts(API_AUTH),
                     ApiContext(rooms, history, lambda: START + 10_000))
    server = ControlServer(("127.0.0.1", 0), app)
    server.start()
    host, port = server.address
    yield f"http://{host}:{port}"
    server.stop()
    history.close()


def test_pages_follow_meta_next(api):
    mpcs = rest_client(api, ACCOUNT_A, TOKEN_A).multi_party_calls
    first = mpcs.list(limit=10)
    assert [m.mpc_uuid for m in first.objects] == [f"uuid-{n:02d}" for n in range(24, 14, -1)]
    assert first.meta["count"] == COUNT and first.meta["limit"] == 10
    assert first.meta["offset"] == 0 and first.meta["previous"] is None
    assert "offset=10" in first.meta["next"] and "limit=10" in first.meta["next"]
    last = mpcs.list(limit=10, offset=20)
    assert len(last.objects) == 5 and last.meta["next"] is None
    assert "offset=10" in last.meta["previous"]
    walked = [m.mpc_uuid for m in mpcs]  # the SDK's iteration: meta.next page by page
    assert walked == [f"uuid-{n:02d}" for n in range(24, -1, -1)]
    assert all(not hasattr(m, "participants_list") for m in first.objects)


def test_filters(api):
    mpcs = rest_client(api, ACCOUNT_A, TOKEN_A).multi_party_calls
    named = mpcs.list(friendly_name="mpc-1", limit=20)
    assert {m.friendly_name for m in named.objects} == {"mpc-1"}
    assert named.meta["count"] == len([n for n in range(COUNT) if n % 3 == 1])
    api_ended = mpcs.list(termination_cause_code=3000, limit=20)
    assert api_ended.meta["count"] == len([n for n in range(COUNT) if n % 2])
    assert {m.termination_cause_code for m in api_ended.objects} == {3000}
    since = mpcs.list(creation_time__gte=timestamp(START + 20 * 60)[:19], limit=20)
    assert [m.mpc_uuid for m in since.objects] == [f"uuid-{n:02d}" for n in range(24, 19, -1)]
    before = mpcs.list(end_time__lt=timestamp(START + 2 * 60 + 30)[:16], limit=20)
    assert [m.mpc_uuid for m in before.objects] == ["uuid-01", "uuid-00"]
    assert mpcs.list(status="active").objects == []
    assert mpcs.list(status="ended", limit=1).meta["count"] == COUNT
    other = rest_client(api, ACCOUNT_B, TOKEN_B).multi_party_calls
    assert other.list().objects == [] and other.list().meta["count"] == 0


def test_bad_list_parameters_name_themselves(api):
    url = f"{api}/v1/Account/{ACCOUNT_A}/MultiPartyCall/"
    for query, name in (("limit=21", "limit"), ("offset=-1", "offset"),
                        ("status=gone", "status"), ("end_time__gt=yesterday", "end_time__gt")):
        answer = requests.get(f"{url}?{query}", auth=(ACCOUNT_A, TOKEN_A), timeout=5)
        assert answer.status_code == 400 and answer.json()["error"].startswith(f"{name}:")
    with pytest.raises(px.ResourceNotFoundError):
        rest_client(api, ACCOUNT_A, TOKEN_A).multi_party_calls.get(uuid="uuid-99")
    got = rest_client(api, ACCOUNT_A, TOKEN_A).multi_party_calls.get(uuid="uuid-03")
    assert got.status == "Ended" and got.termination_cause_code == 3000
