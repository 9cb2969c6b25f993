"""The Conference control API driven through the official Plivo SDK, written once, run on the
embedded FreeSWITCH (tests/api/test_conference_api.py) and on a real one (tests/fs/test_api_real.py).

Each scenario takes a Scene whose daemon serves the API (`api_scene` in conftest.py), and an
SDK client for account A (`scene.client`), B (`scene.client_b`); it asserts the room's real
state (the daemon's room, FreeSWITCH's `conference list`, audio) and the callbacks caused.
"""

from __future__ import annotations

from pathlib import Path

import gevent
import plivo.exceptions as px
import pytest
import requests
from conference.hearing import everyone_but, heard
from conference.scenarios import doc, room
from conference.scene import Scene
from conference.transcription_scenarios import SENTENCE, TRANSCRIBED_S, WORDS, say_file

from plivoxml_fs.client import rest_client
from plivoxml_fs.service import Daemon

ACCOUNT_A = "MAPLIVOXMLFSTEST0001"
TOKEN_A = "token-of-a-0001"
ACCOUNT_B = "SAPLIVOXMLFSTEST0002"
TOKEN_B = "token-of-b-0002"
API_AUTH = f"{ACCOUNT_A}:{TOKEN_A},{ACCOUNT_B}:{TOKEN_B}"
#: Channel variables that put a call's rooms in account B (the default account is A).
IN_B = f"plivoxml_account_id={ACCOUNT_B}"


def _join(scene: Scene, name: str, numbers, variables: str = ""):
    callers = [scene.call(to, doc(name, "", "<Speak>after the room</Speak>"), variables)
               for to in numbers]
    enters = [scene.entered(c) for c in callers]
    return callers, enters


def _member(scene: Scene, name: str, member_id: str, account: str = ACCOUNT_A):
    room = scene.daemon.rooms.find(account, name)
    assert room is not None, f"no live room {name}"
    return room.by_member_id(int(member_id))


def _fs_flags(scene: Scene, name: str, member_id: str) -> str:
    """The flags field of the member's `conference <room> list` line (hear|speak|...)."""
    room = scene.daemon.rooms.find(ACCOUNT_A, name)
    reply = scene.api(f"conference {room.fs_name} list")
    for line in reply.splitlines():
        fields = line.split(";")
        if len(fields) > 5 and fields[0] == member_id:
            return fields[5]
    return ""


def list_and_get(scene: Scene) -> None:
    """list names the room; get gives each member with Plivo's fields, counts as strings."""
    name = room("api-get")
    callers, enters = _join(scene, name, ["7201", "7202"])
    try:
        assert name in scene.client.conferences.list().conferences
        got = scene.client.conferences.get(name)
        assert got.conference_name == name
        assert got.conference_member_count == "2"
        assert isinstance(got.conference_run_time, str) and got.conference_run_time.isdigit()
        members = {m["member_id"]: m for m in got.members}
        assert set(members) == {e["ConferenceMemberID"] for e in enters}
        for enter, caller in zip(enters, callers, strict=True):
            m = members[enter["ConferenceMemberID"]]
            assert m["call_uuid"] == enter["CallUUID"]
            assert m["to"] == caller.to and m["from"] == "1001"
            assert m["muted"] is False and m["deaf"] is False
            assert m["direction"] == enter["Direction"]
            assert m["join_time"].isdigit()
            assert "caller_name" in vars(m)
    finally:
        scene.leave(callers)


def mute_is_heard_by_nobody(scene: Scene) -> None:
    """member_mute through the SDK: the room's member is muted (FreeSWITCH's flags lose speak),
    nobody hears it (audio); a repeated mute does no harm; member_mute_stop: everyone hears it
    again (audio)."""
    name = room("api-mute")
    callers, enters = _join(scene, name, ["7211", "7212", "7213"])
    quiet = enters[1]["ConferenceMemberID"]
    try:
        answer = scene.client.conferences.member_mute(name, quiet)
        assert answer.message == "muted" and answer.member_id == quiet
        scene.wait("muted", lambda: _member(scene, name, quiet).muted)
        assert "speak" not in _fs_flags(scene, name, quiet)
        scene.client.conferences.member_mute(name, quiet)  # again: no harm
        hearing = scene.hearing(callers)
        assert heard(hearing) == everyone_but(["7211", "7212", "7213"], "7212"), str(hearing)
        got = scene.client.conferences.get(name)
        assert {m["member_id"]: m["muted"] for m in got.members}[quiet] is True
        scene.client.conferences.member_mute_stop(name, quiet)
        scene.wait("unmuted", lambda: not _member(scene, name, quiet).muted)
        assert "speak" in _fs_flags(scene, name, quiet)
        again = scene.hearing(callers, scene.record_dir / "unmuted")
        assert heard(again) == everyone_but(["7211", "7212", "7213"]), str(again)
    finally:
        scene.leave(callers)


def deaf_all_and_undeaf(scene: Scene) -> None:
    """member_deaf with a comma list: those two hear nobody (audio), the third hears both;
    member_deaf_stop with `all`: everyone hears again."""
    name = room("api-deaf")
    callers, enters = _join(scene, name, ["7221", "7222", "7223"])
    ids = [e["ConferenceMemberID"] for e in enters[:2]]
    try:
        scene.client.conferences.member_deaf(name, ",".join(ids))
        scene.wait("two deaf", lambda: all(_member(scene, name, i).deaf for i in ids))
        assert all("hear" not in _fs_flags(scene, name, i) for i in ids)
        got = scene.client.conferences.get(name)
        assert {m["member_id"]: m["deaf"] for m in got.members} == {
            ids[0]: True, ids[1]: True, enters[2]["ConferenceMemberID"]: False}
        hearing = scene.hearing(callers)
        assert heard(hearing) == {"7221": set(), "7222": set(), "7223": {"7221", "7222"}}, \
            str(hearing)
        scene.client.conferences.member_deaf_stop(name, "all")
        scene.wait("all hear", lambda: not any(_member(scene, name, i).deaf for i in ids))
        assert all("hear" in _fs_flags(scene, name, i) for i in ids)
    finally:
        scene.leave(callers)


def kick_goes_on_and_hangup_ends(scene: Scene) -> None:
    """member_kick: out of the room with exit reason kicked, the document goes on (its Speak
    runs); member_hangup: the member's call ends (its hangup callback)."""
    name = room("api-kick")
    callers, enters = _join(scene, name, ["7231", "7232", "7233"])
    try:
        answer = scene.client.conferences.member_kick(name, enters[0]["ConferenceMemberID"])
        assert answer.message == "kicked"
        exit_ = scene.wait("kicked exit", lambda: next(iter(
            scene.callbacks("/cb", "7231", "exit")), None))
        assert exit_["ConferenceMemberID"] == enters[0]["ConferenceMemberID"]
        scene.wait("Speak after the room", lambda: any(
            app == "speak" for app, _ in scene.apps(enters[0]["CallUUID"])))
        scene.client.conferences.member_hangup(name, enters[1]["ConferenceMemberID"])
        hangup = scene.hung_up(callers[1])
        assert hangup["CallUUID"] == enters[1]["CallUUID"]
        assert not any(app == "speak" for app, _ in scene.apps(enters[1]["CallUUID"]))
        scene.wait("two left", lambda: len(scene.members(scene.daemon.rooms.find(
            ACCOUNT_A, name).fs_name)) == 1)
    finally:
        scene.leave(callers)


def play_and_stop(scene: Scene) -> None:
    """member_play of a URL plays it to that member (FreeSWITCH's play-file-member event);
    member_play_stop stops it."""
    name = room("api-play")
    callers, enters = _join(scene, name, ["7241", "7242"])
    target = enters[1]["ConferenceMemberID"]
    fs_name = scene.daemon.rooms.find(ACCOUNT_A, name).fs_name
    try:
        url = f"{scene.app.base}/sounds/chime.wav"
        answer = scene.client.conferences.member_play(name, target, url)
        assert answer.message == "play queued into conference"
        played = scene.wait("play-file-member", lambda: [
            e for e in scene.room_events(fs_name, "play-file-member")
            if e.get("Member-ID") == target])
        assert played[0].get("File", "").endswith(url)
        answer = scene.client.conferences.member_play_stop(name, target)
        assert answer.message == "playing in conference stopped"
    finally:
        scene.leave(callers)


def hang_up_room_then_history(scene: Scene) -> None:
    """delete(name): every member's call ends; GET afterwards answers from the history: ended,
    with both stays (durations, exit causes)."""
    name = room("api-end")
    callers, enters = _join(scene, name, ["7251", "7252"])
    assert scene.client.conferences.delete(name) is None  # 204
    for caller in callers:
        scene.hung_up(caller)
    scene.wait("the room's end", lambda: scene.daemon.rooms.find(ACCOUNT_A, name) is None)
    got = scene.wait("history", lambda: _get_or_none(scene, name))
    assert got.status == "ended" and got.conference_member_count == "0"
    stays = {m["member_id"]: m for m in got.past_members}
    assert set(stays) == {e["ConferenceMemberID"] for e in enters}
    assert all(m["exit_cause"] == "hangup" and m["duration"].isdigit() for m in stays.values())
    assert name not in scene.client.conferences.list().conferences


def _get_or_none(scene: Scene, name: str):
    try:
        got = scene.client.conferences.get(name)
    except px.ResourceNotFoundError:
        return None
    return got if getattr(got, "status", "") == "ended" else None


def hang_up_all(scene: Scene) -> None:
    """delete_all(): account A's rooms end, account B's room is left alone."""
    a1, a2, b = room("api-all1"), room("api-all2"), room("api-allb")
    mine = [*_join(scene, a1, ["7261"])[0], *_join(scene, a2, ["7262"])[0]]
    theirs, _ = _join(scene, b, ["7263"], IN_B)
    try:
        assert scene.client.conferences.delete_all() is None
        for caller in mine:
            scene.hung_up(caller)
        assert scene.client.conferences.list().conferences == []
        assert scene.client_b.conferences.list().conferences == [b]
    finally:
        scene.leave(theirs)


def accounts_are_apart(scene: Scene) -> None:
    """Bad credentials: 401. Account B neither sees nor touches A's room (404), and A not B's."""
    name = room("api-acct")
    callers, enters = _join(scene, name, ["7271"])
    other = room("api-acct-b")
    theirs, their_enters = _join(scene, other, ["7272"], IN_B)
    try:
        with pytest.raises(px.AuthenticationError):
            scene.sdk(ACCOUNT_A, "wrong-token").conferences.list()
        with pytest.raises(px.AuthenticationError):
            scene.sdk("MAUNKNOWNACCOUNT0000", TOKEN_A).conferences.list()
        assert name not in scene.client_b.conferences.list().conferences
        with pytest.raises(px.ResourceNotFoundError):
            scene.client_b.conferences.get(name)
        with pytest.raises(px.ResourceNotFoundError):
            scene.client_b.conferences.member_mute(name, enters[0]["ConferenceMemberID"])
        assert not _member(scene, name, enters[0]["ConferenceMemberID"]).muted
        assert scene.client_b.conferences.list().conferences == [other]
        with pytest.raises(px.ResourceNotFoundError):
            scene.client.conferences.get(other)
        got = scene.client_b.conferences.get(other)
        assert got.members[0]["call_uuid"] == their_enters[0]["CallUUID"]
    finally:
        scene.leave([*callers, *theirs])


def errors_in_plivos_shape(scene: Scene) -> None:
    """Unknown room or member: 404; a bad member_id or no url: 400 naming it; a wrong verb:
    405 with Allow; each body `{"api_id", "error"}`."""
    name = room("api-err")
    callers, enters = _join(scene, name, ["7281"])
    try:
        with pytest.raises(px.ResourceNotFoundError, match="not found"):
            scene.client.conferences.get("no-such-room")
        with pytest.raises(px.ResourceNotFoundError, match="no member 999"):
            scene.client.conferences.member_mute(name, "999")
        with pytest.raises(px.ValidationError, match="member_id"):
            scene.client.conferences.member_mute(name, "one")
        base = f"{scene.api_base}/v1/Account/{ACCOUNT_A}/Conference/{name}"
        auth = (ACCOUNT_A, TOKEN_A)
        reply = requests.post(f"{base}/Member/all/Play/", json={}, auth=auth, timeout=5)
        assert reply.status_code == 400 and reply.json()["error"].startswith("url:")
        assert set(reply.json()) == {"api_id", "error"}
        reply = requests.put(f"{base}/Member/all/Mute/", json={}, auth=auth, timeout=5)
        assert reply.status_code == 405 and reply.headers["Allow"] == "DELETE, POST"
        with pytest.raises(px.InvalidRequestError):
            scene.client.conferences.client.request("PUT", ("Conference", name), {},
                                                    is_voice_request=True)
        assert not _member(scene, name, enters[0]["ConferenceMemberID"]).muted
    finally:
        scene.leave(callers)


def concurrent_updates(scene: Scene) -> None:
    """Mute and deaf of one member sent at once, twice each, from four greenlets: every call
    answers 202 and the member ends muted and deaf."""
    name = room("api-race")
    callers, enters = _join(scene, name, ["7291", "7292"])
    target = enters[0]["ConferenceMemberID"]
    try:
        calls = [scene.client.conferences.member_mute, scene.client.conferences.member_deaf] * 2
        jobs = [gevent.spawn(call, name, target) for call in calls]
        gevent.joinall(jobs, timeout=10, raise_error=True)
        assert [job.value.message for job in jobs] == ["muted", "deaf", "muted", "deaf"]
        scene.wait("muted and deaf", lambda: (lambda m: m.muted and m.deaf)(
            _member(scene, name, target)))
        flags = _fs_flags(scene, name, target)
        assert "speak" not in flags and "hear" not in flags
    finally:
        scene.leave(callers)


def asynchronous_requests(scene: Scene) -> None:
    """Plivo's callback_url on any request: answered at once ("async api spawned"), carried
    out after (the member is muted: FreeSWITCH's flags lose speak), and the answer it would
    have had is posted to callback_url with the same api_id; an error too (404)."""
    name = room("api-async")
    callers, enters = _join(scene, name, ["7351", "7352"])
    quiet = enters[0]["ConferenceMemberID"]
    try:
        answer = scene.client.conferences.member_mute(
            name, quiet, callback_url=f"{scene.app.base}/async", callback_method="POST")
        assert answer.message == "async api spawned"
        posted = scene.wait("the mute's answer", lambda: scene.app.of("/async"))[0]
        assert posted["api_id"] == answer.api_id and posted["status_code"] == "202"
        assert posted["message"] == "muted" and posted["member_id"] == quiet
        scene.wait("muted", lambda: _member(scene, name, quiet).muted)
        assert "speak" not in _fs_flags(scene, name, quiet)
        lost = scene.client.conferences.member_mute("no-such-room", "1",
                                                    callback_url=f"{scene.app.base}/async")
        assert lost.message == "async api spawned"
        failed = scene.wait("the 404's answer", lambda: [
            p for p in scene.app.of("/async") if p["api_id"] == lost.api_id])[0]
        assert failed["status_code"] == "404" and "not found" in failed["error"]
        with pytest.raises(px.ValidationError, match="callback_method"):
            scene.client.conferences.member_mute(name, quiet, callback_url=scene.app.base,
                                                 callback_method="PUT")
    finally:
        scene.leave(callers)


SCENARIOS = [list_and_get, mute_is_heard_by_nobody, deaf_all_and_undeaf,
             kick_goes_on_and_hangup_ends, play_and_stop, hang_up_room_then_history,
             hang_up_all, accounts_are_apart, errors_in_plivos_shape, concurrent_updates,
             asynchronous_requests]


def history_survives_a_restart(scene: Scene) -> None:
    """An ended room is answered from the history by a daemon started anew on the same
    state directory (the first one stopped)."""
    name = room("api-restart")
    callers, enters = _join(scene, name, ["7301", "7302"])
    scene.client.conferences.delete(name)
    for caller in callers:
        scene.hung_up(caller)
    before = scene.wait("history", lambda: _get_or_none(scene, name))
    scene.daemon.stop(drain_timeout_s=2)
    again = Daemon(scene.settings)
    again.start_server()
    try:
        host, port = again.api.address
        client = rest_client(f"http://{host}:{port}", ACCOUNT_A, TOKEN_A)
        got = client.conferences.get(name)
        assert got.status == "ended" and got.conference_uuid == before.conference_uuid
        assert {m["member_id"] for m in got.past_members} == {
            e["ConferenceMemberID"] for e in enters}
        assert got.end_time == before.end_time
        with pytest.raises(px.ResourceNotFoundError):
            rest_client(f"http://{host}:{port}", ACCOUNT_B, TOKEN_B).conferences.get(name)
    finally:
        again.stop(drain_timeout_s=1)


def speak_and_stop(scene: Scene) -> None:
    """member_speak: FreeSWITCH speaks the text, spaces folded, to that member (its
    speak-text-member event) in the voice asked for; member_speak_stop answers; a voice the
    language lacks is a 400 naming voice."""
    name = room("api-speak")
    callers, enters = _join(scene, name, ["7311", "7312"])
    target = enters[0]["ConferenceMemberID"]
    fs_name = scene.daemon.rooms.find(ACCOUNT_A, name).fs_name
    try:
        answer = scene.client.conferences.member_speak(name, target, "Hello  from the API",
                                                       voice="MAN", language="en-GB")
        assert answer.message == "speak queued into conference"
        spoken = scene.wait("speak-text-member", lambda: [
            e for e in scene.room_events(fs_name, "speak-text-member")
            if e.get("Member-ID") == target])
        # the voice rides in front as conference_member_say reads it (MAN is flite's kal)
        assert spoken[0].get("Text") == "#kal#Hello from the API", spoken[0].headers
        assert scene.client.conferences.member_speak_stop(name, target).message == "speak stopped"
        with pytest.raises(px.ValidationError, match="voice"):
            scene.client.conferences.member_speak(name, target, "hi", voice="MAN",
                                                  language="da-DK")
    finally:
        scene.leave(callers)


def record_start_and_stop(scene: Scene) -> None:
    """record through the API: FreeSWITCH records the room to the file named in the answer's
    url; record_stop: the callback the SDK's callback_url asked for, with the Record API's
    parameters; the history keeps the recording."""
    name = room("api-rec")
    callers, enters = _join(scene, name, ["7321", "7322"])
    fs_name = scene.daemon.rooms.find(ACCOUNT_A, name).fs_name
    answer = scene.client.conferences.record(name, file_format="wav",
                                             callback_url=f"{scene.app.base}/recorded",
                                             callback_method="POST")
    try:
        assert answer.message == "conference recording started"
        assert answer.url.endswith(f"_{answer.recording_id}.wav")
        scene.wait("start-recording", lambda: scene.room_events(fs_name, "start-recording"))
        with pytest.raises(px.ValidationError, match="recorded already"):
            scene.client.conferences.record(name)
        scene.talk(callers[0], 600)
        scene.wait("recording live", lambda: scene.daemon.rooms.find(
            ACCOUNT_A, name).recording_live)
        scene.client.conferences.record_stop(name)
        done = scene.wait("record callback", lambda: scene.app.of("/recorded"))
        assert done[0]["recording_id"] == answer.recording_id
        assert done[0]["record_url"] == answer.url
        assert done[0]["conference_name"] == name
        assert done[0]["api_id"] == answer.api_id
        assert int(done[0]["recording_duration_ms"]) >= 0
        path = scene.daemon.rooms.find(ACCOUNT_A, name).recording.path
        scene.wait("the file", lambda: Path(path).exists() and Path(path).stat().st_size > 44)
    finally:
        scene.leave(callers)
    got = scene.wait("history", lambda: _get_or_none(scene, name))
    assert [r["recording_id"] for r in got.recordings] == [answer.recording_id]


def one_name_two_accounts(scene: Scene) -> None:
    """Accounts A and B each have a room called the same: two FreeSWITCH rooms (the account
    scopes the id), each account sees only its members, B's `mute all` touches none of A's,
    and nobody hears across them (audio)."""
    name = room("api-dup")
    mine, my_enters = _join(scene, name, ["7331", "7332"])
    theirs, their_enters = _join(scene, name, ["7333"], IN_B)
    try:
        a_room = scene.daemon.rooms.find(ACCOUNT_A, name)
        b_room = scene.daemon.rooms.find(ACCOUNT_B, name)
        assert a_room is not b_room and a_room.fs_name != b_room.fs_name
        a_got = scene.client.conferences.get(name)
        b_got = scene.client_b.conferences.get(name)
        assert {m["call_uuid"] for m in a_got.members} == {e["CallUUID"] for e in my_enters}
        assert [m["call_uuid"] for m in b_got.members] == [their_enters[0]["CallUUID"]]
        scene.client_b.conferences.member_mute(name, "all")
        scene.wait("B's member muted", lambda: b_room.by_member_id(
            int(their_enters[0]["ConferenceMemberID"])).muted)
        assert not any(m.muted for m in a_room.members.values())
        hearing = scene.hearing([*mine, *theirs])
        assert heard(hearing) == {"7331": {"7332"}, "7332": {"7331"}, "7333": set()}, \
            str(hearing)
    finally:
        scene.leave([*mine, *theirs])


def record_with_transcription(scene: Scene) -> None:
    """record with transcription_url: flite's sentence played into the room comes back as
    words at that URL once record_stop ends the recording, named by the recording id."""
    name = room("api-tx")
    callers, _ = _join(scene, name, ["7341", "7342"])
    fs_name = scene.daemon.rooms.find(ACCOUNT_A, name).fs_name
    answer = scene.client.conferences.record(name, file_format="wav",
                                             transcription_type="auto",
                                             transcription_url=f"{scene.app.base}/tx",
                                             transcription_method="POST")
    try:
        scene.wait("start-recording", lambda: scene.room_events(fs_name, "start-recording"))
        say_file(scene, callers[0], SENTENCE)
        scene.client.conferences.record_stop(name)
        (posted,) = scene.wait("the transcription", lambda: scene.app.of("/tx"),
                               timeout=TRANSCRIBED_S)
    finally:
        scene.leave(callers)
    assert posted["error"] == "" and posted["recording_id"] == answer.recording_id
    # two of "quick brown fox" at least: a real mod_conference's mix under load is rougher
    # (tests/fs/test_conference_real.py); the embedded one hears all three
    assert len(set(WORDS) & set(posted["transcription"].split())) >= 2, posted["transcription"]
    assert posted["call_uuid"] == ""  # the API's recording belongs to no call


SCENARIOS += [speak_and_stop, record_start_and_stop, record_with_transcription,
              one_name_two_accounts]
