"""Conference scenarios written once, run on the embedded FreeSWITCH and on a real one.

Each takes a Scene and asserts what the callers experienced, through the callbacks the web app
received and the conference API. Rooms get a per-run suffix so runs never share a room.
"""

from __future__ import annotations

import uuid

from conference.scene import Scene

CB = 'callbackUrl="{base}/cb"'


def room(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}"


def doc(room_name: str, attrs: str = "", after: str = "") -> str:
    return (f"<Response><Conference {CB} {attrs}>{room_name}</Conference>{after}</Response>")


def two_callers_meet(scene: Scene) -> None:
    """Two callers join one room: enter callbacks with the room and member ids; when the second
    hangs up the first goes on to its next verb after its exit callback."""
    name = room("meet")
    first = scene.call("1001", doc(name, 'stayAlone="false"', "<Speak>after</Speak>"))
    enter1 = scene.entered(first)
    second = scene.call("1002", doc(name))
    enter2 = scene.entered(second)
    assert enter1["ConferenceName"] == enter2["ConferenceName"] == name
    assert enter1["ConferenceUUID"] == enter2["ConferenceUUID"] != ""
    assert int(enter2["ConferenceMemberID"]) > int(enter1["ConferenceMemberID"]) > 0
    assert enter1["CallUUID"] != enter2["CallUUID"]
    assert len(scene.members(name)) == 2
    scene.hang_up(second)
    scene.hung_up(second)
    scene.hung_up(first)  # stayAlone=false: the room ended, Speak ran, the document ended
    scene.flush()
    for caller, enter in ((first, enter1), (second, enter2)):
        (exit_,) = scene.callbacks("/cb", caller.to, "exit")
        assert exit_["ConferenceMemberID"] == enter["ConferenceMemberID"]
        assert exit_["ConferenceUUID"] == enter["ConferenceUUID"]
    order = [h["ConferenceAction"] for h in scene.callbacks("/cb", first.to)]
    assert order == ["enter", "exit"]


def _action(scene: Scene, caller, path: str = "/action") -> dict:
    return scene.wait(f"{caller.to} action", lambda: next(iter(scene.app.of(path, caller.to)), None))


def muted_member_cannot_speak(scene: Scene) -> None:
    """muted="true": the member is in the room without `speak`; the other member can speak."""
    name = room("muted")
    listener = scene.call("2001", doc(name, 'muted="true"'))
    speaker = scene.call("2002", doc(name))
    scene.entered(listener)
    scene.entered(speaker)
    lines = scene.wait("two members", lambda: len(scene.members(name)) == 2 and scene.members(name))
    flags = {line.split(";")[2]: line.split(";")[5] for line in lines}
    enter_l = scene.callbacks("/cb", listener.to, "enter")[0]
    enter_s = scene.callbacks("/cb", speaker.to, "enter")[0]
    assert "speak" not in flags[enter_l["CallUUID"]].split("|")
    assert "speak" in flags[enter_s["CallUUID"]].split("|")
    scene.hang_up(listener)
    scene.hang_up(speaker)
    scene.hung_up(listener)
    scene.hung_up(speaker)


def hangup_on_star_leaves_and_goes_on(scene: Scene) -> None:
    """hangupOnStar: `*` takes the member out of the room; redirect="false" posts the action
    with ConferenceExitReason=hangup-on-star and the next verb runs; the other member stays."""
    name = room("star")
    attrs_ = 'hangupOnStar="true" action="{base}/action" redirect="false"'
    leaver = scene.call("3001", doc(name, attrs_, '<Redirect>{base}/docs/after</Redirect>'))
    scene.app.documents["/docs/after"] = "<Response><Hangup/></Response>"
    stayer = scene.call("3002", doc(name))
    scene.entered(leaver)
    scene.entered(stayer)
    scene.dtmf(leaver, "*")
    action = _action(scene, leaver)
    assert action["ConferenceExitReason"] == "hangup-on-star"
    assert action["ConferenceName"] == name
    assert action["ConferenceMemberID"] == scene.callbacks("/cb", leaver.to, "enter")[0][
        "ConferenceMemberID"]
    scene.hung_up(leaver)
    assert [h["To"] for h in scene.app.of("/docs/after")] == [leaver.to]
    assert len(scene.members(name)) == 1
    scene.hang_up(stayer)
    scene.hung_up(stayer)
    scene.flush()
    assert [h["ConferenceAction"] for h in scene.callbacks("/cb", leaver.to)] == ["enter", "exit"]


def action_redirect_fetches_the_next_document(scene: Scene) -> None:
    """redirect="true" (default): when the member leaves, the action URL is fetched as the next
    document with the conference parameters and the call parameters."""
    name = room("redirect")
    attrs_ = 'hangupOnStar="true" action="{base}/docs/next" method="GET"'
    scene.app.documents["/docs/next"] = "<Response><Speak>bye</Speak></Response>"
    caller = scene.call("4001", doc(name, attrs_, "<Speak>never</Speak>"))
    enter = scene.entered(caller)
    scene.dtmf(caller, "*")
    scene.hung_up(caller)
    (hit,) = [h for h in scene.app.hits if h.path == "/docs/next"]
    assert hit.method == "GET"
    assert hit.params["ConferenceName"] == name
    assert hit.params["ConferenceUUID"] == enter["ConferenceUUID"]
    assert hit.params["ConferenceMemberID"] == enter["ConferenceMemberID"]
    assert hit.params["ConferenceExitReason"] == "hangup-on-star"
    assert hit.params["CallUUID"] == enter["CallUUID"]
    assert hit.params["To"] == caller.to


def callback_method_get(scene: Scene) -> None:
    """callbackMethod="GET": the enter and exit callbacks are GET requests with the parameters."""
    name = room("get")
    caller = scene.call("4101", f'<Response><Conference callbackUrl="{{base}}/cbget" '
                                f'callbackMethod="GET" hangupOnStar="true">{name}</Conference>'
                                "</Response>")
    scene.wait("enter", lambda: scene.callbacks("/cbget", caller.to, "enter"))
    scene.dtmf(caller, "*")
    scene.hung_up(caller)
    scene.flush()
    hits = [h for h in scene.app.hits if h.path == "/cbget"]
    assert [(h.method, h.params["ConferenceAction"]) for h in hits] == [("GET", "enter"),
                                                                        ("GET", "exit")]


def digits_match_reports_patterns(scene: Scene) -> None:
    """digitsMatch: each pattern the member presses posts ConferenceAction=digits with it."""
    name = room("digits")
    caller = scene.call("5001", doc(name, 'digitsMatch="12,#9"'))
    scene.entered(caller)
    scene.dtmf(caller, "312")
    scene.wait("12", lambda: scene.callbacks("/cb", caller.to, "digits"))
    scene.dtmf(caller, "4#9")
    matched = scene.wait("#9", lambda: len(scene.callbacks("/cb", caller.to, "digits")) == 2
                         and scene.callbacks("/cb", caller.to, "digits"))
    assert [m["ConferenceDigitsMatch"] for m in matched] == ["12", "#9"]
    assert matched[0]["ConferenceName"] == name
    scene.hang_up(caller)
    scene.hung_up(caller)


def relay_dtmf_reaches_other_members(scene: Scene) -> None:
    """relayDTMF (default true) sends a member's digits to the other members' phones;
    relayDTMF="false" keeps them to the member."""
    name = room("relay")
    relayer = scene.call("5101", doc(name))
    quiet = scene.call("5102", doc(name, 'relayDTMF="false"'))
    listener = scene.call("5103", doc(name, 'relayDTMF="false"'))
    for c in (relayer, quiet, listener):
        scene.entered(c)
    scene.dtmf(quiet, "88")
    scene.dtmf(relayer, "77")
    scene.wait("77 heard by the others", lambda: scene.digits_heard(listener) == "77"
               and scene.digits_heard(quiet) == "77")
    for c in (relayer, quiet, listener):
        scene.hang_up(c)
        scene.hung_up(c)
    assert scene.digits_heard(relayer) == ""  # 88 stayed with its member
    assert scene.digits_heard(listener) == "77"


def floor_event_when_taking_the_floor(scene: Scene) -> None:
    """floorEvent="true": ConferenceAction=floor when this member takes the floor (on entry
    to an empty floor, and when it talks after another member held it)."""
    name = room("floor")
    first = scene.call("6001", doc(name, 'floorEvent="true"'))
    scene.entered(first)
    scene.wait("floor on entry", lambda: scene.callbacks("/cb", first.to, "floor"))
    second = scene.call("6002", doc(name, 'floorEvent="true"'))
    scene.entered(second)
    scene.talk(second, 2000)
    scene.wait("second's floor", lambda: scene.callbacks("/cb", second.to, "floor"))
    scene.talk(first, 2000)
    scene.wait("first's floor again", lambda: len(scene.callbacks("/cb", first.to, "floor")) == 2)
    floor = scene.callbacks("/cb", first.to, "floor")[0]
    assert floor["ConferenceMemberID"] == scene.callbacks("/cb", first.to, "enter")[0][
        "ConferenceMemberID"]
    for c in (first, second):
        scene.hang_up(c)
        scene.hung_up(c)


def room_full_is_told_apart(scene: Scene) -> None:
    """maxMembers="2": a third caller does not enter; its action URL (redirect=false) says
    ConferenceExitReason=room-full with no member id, and its next verb runs."""
    name = room("full")
    a = scene.call("7001", doc(name, 'maxMembers="2"'))
    b = scene.call("7002", doc(name, 'maxMembers="2"'))
    scene.entered(a)
    scene.entered(b)
    c = scene.call("7003", doc(name, 'maxMembers="2" action="{base}/action" redirect="false"',
                                "<Hangup/>"))
    action = _action(scene, c)
    assert action["ConferenceExitReason"] == "room-full"
    assert action["ConferenceMemberID"] == ""
    assert action["ConferenceName"] == name
    scene.hung_up(c)
    assert scene.callbacks("/cb", c.to) == []
    for x in (a, b):
        scene.hang_up(x)
        scene.hung_up(x)


def max_members_one_locks_the_room(scene: Scene) -> None:
    """maxMembers="1" (a limit FreeSWITCH refuses): the room is locked once its member entered,
    so a second caller finds it full."""
    name = room("solo")
    a = scene.call("7101", doc(name, 'maxMembers="1"'))
    scene.entered(a)
    b = scene.call("7102", doc(name, 'action="{base}/action" redirect="false"', "<Hangup/>"))
    assert _action(scene, b)["ConferenceExitReason"] == "room-full"
    scene.hung_up(b)
    scene.hang_up(a)
    scene.hung_up(a)


def time_limit_ends_the_room(scene: Scene) -> None:
    """timeLimit="1": one second after the room began every member is taken out; each action
    URL says ConferenceExitReason=time-limit and each call goes on with its next verb."""
    name = room("limit")
    attrs_ = 'timeLimit="1" action="{base}/action" redirect="false"'
    a = scene.call("8001", doc(name, attrs_, "<Hangup/>"))
    b = scene.call("8002", doc(name, attrs_, "<Hangup/>"))
    for c in (a, b):
        assert _action(scene, c)["ConferenceExitReason"] == "time-limit"
        scene.hung_up(c)
    assert scene.members(name) == []


def assignments(app: str, data: str) -> list[str]:
    """The `name=value` pieces a `set` or `multiset` application ran with (none for others)."""
    if app == "set":
        return [data]
    if app != "multiset":
        return []
    sep, data = (data[2], data[3:]) if data.startswith("^^") else (" ", data)
    return [piece for piece in data.split(sep) if piece]


def moderator_starts_and_ends_the_room(scene: Scene) -> None:
    """startConferenceOnEnter="false" members wait (entered, hearing the wait sound) until a
    member with true enters; endConferenceOnExit="true" on that member ends the room for all,
    and each goes on with its next verb (action says conference-ended)."""
    name = room("moderated")
    waiting = ('startConferenceOnEnter="false" waitSound="{base}/sounds/chime.wav" '
               'action="{base}/action" redirect="false"')
    w1 = scene.call("9001", doc(name, waiting, "<Hangup/>"))
    w2 = scene.call("9002", doc(name, waiting, "<Hangup/>"))
    uuids = [scene.entered(w1)["CallUUID"], scene.entered(w2)["CallUUID"]]
    def music():
        return [piece for u in uuids for app, data in scene.apps(u)
                for piece in assignments(app, data) if piece.startswith("conference_moh_sound=")]

    scene.wait("the music set", music)
    # a second set, if any, would come before that member's conference application
    scene.wait("both members' conference application", lambda: all(
        any(app == "conference" for app, _ in scene.apps(u)) for u in uuids))
    # only the room's creator sets the music (mod_conference reads it from the creator)
    assert music() == [f"conference_moh_sound=http_cache://{scene.app.base}/sounds/chime.wav"]
    mod = scene.call("9003", doc(name, 'endConferenceOnExit="true" hangupOnStar="true"',
                                 "<Hangup/>"))
    scene.entered(mod)
    scene.dtmf(mod, "*")
    for c in (w1, w2):
        assert _action(scene, c)["ConferenceExitReason"] == "conference-ended"
        scene.hung_up(c)
    scene.hung_up(mod)
    scene.flush()
    for c in (w1, w2, mod):
        assert [h["ConferenceAction"] for h in scene.callbacks("/cb", c.to)] == ["enter", "exit"]


def caller_hangs_up_in_the_room(scene: Scene) -> None:
    """The caller hangs up in the room: enter, exit, the action URL requested once with
    ConferenceExitReason=hangup and CallStatus=completed, then the hangup callback, in that
    order; with redirect="true" (the default) too, and the document it returns is not run."""
    name = room("hangup")
    scene.app.documents["/docs/next"] = "<Response><Speak>never</Speak></Response>"
    a = scene.call("1101", doc(name, 'action="{base}/action" redirect="false"'))
    b = scene.call("1102", doc(name, 'action="{base}/docs/next" method="GET"'))
    enters = {c.to: scene.entered(c) for c in (a, b)}
    scene.hang_up(a)
    scene.hang_up(b)
    for caller in (a, b):
        hangup = scene.hung_up(caller)
        assert (hangup["HangupCauseCode"], hangup["HangupCauseName"], hangup["HangupSource"]) == (
            "4000", "Normal Hangup", "Caller")
    scene.flush()
    for caller, path, method in ((a, "/action", "POST"), (b, "/docs/next", "GET")):
        (hit,) = [h for h in scene.app.hits if h.path == path and h.params.get("To") == caller.to]
        assert hit.method == method
        enter = enters[caller.to]
        assert hit.params["ConferenceExitReason"] == "hangup"
        assert hit.params["CallStatus"] == "completed"
        assert (hit.params["ConferenceName"], hit.params["ConferenceUUID"],
                hit.params["ConferenceMemberID"], hit.params["CallUUID"]) == (
            name, enter["ConferenceUUID"], enter["ConferenceMemberID"], enter["CallUUID"])
        seen = [(h.path, h.params.get("ConferenceAction", "")) for h in scene.app.hits
                if h.params.get("To") == caller.to and h.path != "/answer"]
        assert seen == [("/cb", "enter"), ("/cb", "exit"), (path, ""), ("/hangup", "")]
    assert ("speak", "flite|slt|never") not in scene.apps(enters[b.to]["CallUUID"])


def inbound_lost_members_carry_on(scene: Scene) -> None:
    """The daemon's inbound connection drops while two members are in a room: they stay, their
    own events still work (digits, `*`), each gets its exit callback, and the daemon reconnects."""
    name = room("lost")
    a = scene.call("1201", doc(name, 'hangupOnStar="true" digitsMatch="5"', "<Hangup/>"))
    b = scene.call("1202", doc(name, 'hangupOnStar="true"', "<Hangup/>"))
    scene.entered(a)
    scene.entered(b)
    inbound = scene.daemon.inbound
    inbound._conn.close()  # as if FreeSWITCH's inbound socket had gone
    scene.dtmf(a, "5")
    scene.wait("digits after the loss", lambda: scene.callbacks("/cb", a.to, "digits"))
    scene.dtmf(a, "*")
    scene.dtmf(b, "*")
    scene.hung_up(a)
    scene.hung_up(b)
    scene.flush()
    for c in (a, b):
        assert [h["ConferenceAction"] for h in scene.callbacks("/cb", c.to)
                if h["ConferenceAction"] != "digits"] == ["enter", "exit"]
    assert scene.wait("reconnected", lambda: inbound.connected)


def beeps_on_entry_and_exit(scene: Scene) -> None:
    """enterSound="beep:1" plays one tone to the room when the member enters, exitSound="beep:2"
    two when it leaves (FreeSWITCH's play-file-done names the tone stream)."""
    from plivoxml_fs.verbs.conference import BEEP_SOUNDS

    name = room("beeps")
    sounds = 'enterSound="beep:1" exitSound="beep:2"'
    a = scene.call("1301", doc(name, sounds))
    scene.entered(a)
    b = scene.call("1302", doc(name, sounds))
    scene.entered(b)
    scene.wait("the enter beep", lambda: [e for e in scene.room_events(name, "play-file-done")
                                          if e.get("File") == BEEP_SOUNDS["beep:1"]])
    scene.hang_up(b)
    scene.hung_up(b)
    scene.wait("the exit beep", lambda: [e for e in scene.room_events(name, "play-file-done")
                                         if e.get("File") == BEEP_SOUNDS["beep:2"]])
    scene.hang_up(a)
    scene.hung_up(a)


def join_commands_and_variables(scene: Scene) -> None:
    """What the daemon sends to join: the channel variables of the room settings and sounds,
    then the conference application with the member flags."""
    s = scene
    name = room("vars")
    caller = s.call("1401", doc(name, 'muted="true" stayAlone="false" maxMembers="7" '
                                                'enterSound="beep:2" relayDTMF="false"'))
    uuid = s.entered(caller)["CallUUID"]
    s.hang_up(caller)
    s.hung_up(caller)
    apps = [a for a in s.apps(uuid) if a[0] in ("set", "multiset", "conference")]
    profile = s.daemon.settings.conference_profile
    assert apps == [  # the variables in one multiset (fs/commands.conference_variables)
        ("multiset", "^^|hangup_after_conference=false|conference_max_members=7"
                     "|conference_enter_sound=tone_stream://%(200,100,400);%(200,0,400)"),
        ("conference", f"{name}@{profile}+flags{{moderator|mute|mintwo}}"),
    ]


def recorded_room_reports_its_recording(scene: Scene) -> None:
    """record="true" recordFileFormat="wav": the first member starts the room's recording; when
    the room ends, its callbackUrl gets ConferenceAction=record with RecordUrl, RecordingID and
    the durations; the action URL carries RecordUrl and RecordingID; the file is a WAV under
    recordings_dir named by the daemon."""
    import wave
    from pathlib import Path

    name = room("rec")
    attrs_ = ('record="true" recordFileFormat="wav" hangupOnStar="true" '
              'action="{base}/action" redirect="false"')
    a = scene.call("1501", doc(name, attrs_, "<Hangup/>"))
    enter_a = scene.entered(a)
    b = scene.call("1502", doc(name, attrs_, "<Hangup/>"))
    enter_b = scene.entered(b)
    scene.talk(a, 1500)
    scene.dtmf(a, "*")
    scene.dtmf(b, "*")
    scene.hung_up(a)
    scene.hung_up(b)
    records = scene.wait("the record callback", lambda: [
        h for h in scene.app.of("/cb") if h.get("ConferenceAction") == "record"])
    (record,) = records
    owner = enter_a  # the first member in starts the recording
    assert record["CallUUID"] == owner["CallUUID"]
    assert record["ConferenceName"] == name
    assert record["ConferenceUUID"] == owner["ConferenceUUID"]
    assert record["ConferenceMemberID"] == owner["ConferenceMemberID"]
    assert record["RecordUrl"].endswith(".wav") and record["RecordingID"]
    duration_ms = int(record["RecordingDurationMs"])
    assert duration_ms > 0
    assert int(record["RecordingEndMs"]) - int(record["RecordingStartMs"]) == duration_ms
    assert record["RecordingDuration"] == str(round(duration_ms / 1000))
    files = list(Path(scene.daemon.settings.recordings_dir).iterdir())
    assert [f.name for f in files] == [record["RecordUrl"].rsplit("/", 1)[1]]
    with wave.open(str(files[0])) as wav:
        assert wav.getnframes() > 0
    for c in (a, b):
        action = scene.app.of("/action", c.to)[0]
        assert (action["RecordUrl"], action["RecordingID"]) == (record["RecordUrl"],
                                                               record["RecordingID"])
    for enter in (enter_a, enter_b):  # the recording starts before the enter callbacks
        assert (enter["RecordUrl"], enter["RecordingID"]) == (record["RecordUrl"],
                                                             record["RecordingID"])


def wait_sound_document_plays_while_waiting(scene: Scene) -> None:
    """waitSound pointing at a Play/Speak/Wait document: FreeSWITCH 1.10.12 cannot speak a
    room's moh, so no conference_moh_sound is set; the room plays the document to the waiting
    member as member plays (the Speak as `say:`, then the file parts) until the moderator
    enters, when it is stopped."""
    name = room("moh")
    scene.app.documents["/docs/hold"] = (
        "<Response><Speak>Please wait.</Speak><Play>{base}/sounds/chime.wav</Play>"
        '<Wait length="1"/></Response>')
    waiting = scene.call("1601", doc(name, 'startConferenceOnEnter="false" '
                                           'waitSound="{base}/docs/hold"'))
    uuid = scene.entered(waiting)["CallUUID"]
    fs_room = scene.api(f"uuid_getvar {uuid} conference_name").strip()
    files = f"file_string://http_cache://{scene.app.base}/sounds/chime.wav!silence_stream://1000"
    played = scene.wait("the file parts played", lambda: [
        e.get("File") for e in scene.room_events(fs_room, "play-file-member")
        if files in (e.get("File") or "")])
    assert played[0].startswith("{play_id=w"), played
    # the speech's marker (rooms/room_music.py) is queued with it; under load a real
    # FreeSWITCH has fired the marker's play-file-member first
    said = [e.get("File") for e in scene.room_events(fs_room, "play-file-member")
            if not (e.get("File") or "").endswith("file_string://silence_stream://1")]
    assert said[0] == "say:#slt#Please wait.", said
    assert not [a for a in scene.apps(uuid) if a[1].startswith("conference_moh_sound=")]
    (fetched,) = [h for h in scene.app.hits if h.path == "/docs/hold"]
    assert fetched.method == "POST"  # as Plivo fetches sound URLs, with the call's parameters
    assert (fetched.params["CallUUID"], fetched.params["To"]) == (uuid, waiting.to)
    mod = scene.call("1602", doc(name))
    scene.entered(mod)
    (seated,) = [r for r in scene.daemon.rooms.live("") if r.name == name]

    def stopped() -> bool:  # the room plays no more, and every play it queued is done
        queued = {e.get("File", "").split("}", 1)[0] for e in
                  scene.room_events(fs_room, "play-file-member") if "play_id" in e.get("File", "")}
        done = {"{play_id=" + (e.get("play_id") or "") for e in
                scene.room_events(fs_room, "play-file-member-done")}
        return not seated.wait_music.playing and queued <= done

    scene.wait("the music stops", stopped)
    for c in (waiting, mod):
        scene.hang_up(c)
        scene.hung_up(c)


def a_failing_sound_url_is_skipped(scene: Scene) -> None:
    """An enterSound URL that answers 404: the member joins without the sound (no
    conference_enter_sound), the document goes on."""
    name = room("badsound")
    caller = scene.call("1701", doc(name, 'enterSound="{base}/missing.xml"'))
    uuid = scene.entered(caller)["CallUUID"]
    apps = scene.wait("the join", lambda: [a for a in scene.apps(uuid) if a[0] == "conference"]
                      and scene.apps(uuid))
    assert not [a for a in apps if a[1].startswith("conference_enter_sound")]
    scene.hang_up(caller)
    scene.hung_up(caller)


def send_digits_reach_the_members_phone(scene: Scene) -> None:
    """sendDigits (the SDK's ConferenceElement writes it): once the member is in the room its
    digits go out to the member's own phone, `w` a pause and not a digit; the other member's
    phone gets none, and they do not come back in as the member's own digitsMatch."""
    name = room("senddigits")
    dialer = scene.call("1701", doc(name, 'sendDigits="1w2#" digitsMatch="12#"'))
    other = scene.call("1702", doc(name))
    scene.entered(other)
    scene.entered(dialer)
    scene.wait("12# at the dialer's phone", lambda: scene.digits_heard(dialer) == "12#")
    for c in (dialer, other):
        scene.hang_up(c)
        scene.hung_up(c)
    scene.flush()
    assert scene.digits_heard(other) == ""
    assert scene.callbacks("/cb", dialer.to, "digits") == []


def record_when_alone_false_waits_for_a_second_member(scene: Scene) -> None:
    """recordWhenAlone="false": a member alone in a recorded room is not recorded; the member
    whose entry makes two starts the recording (and gets its record callback)."""
    name = room("recalone")
    attrs_ = 'record="true" recordWhenAlone="false" hangupOnStar="true"'
    a = scene.call("1801", doc(name, attrs_, "<Hangup/>"))
    enter_a = scene.entered(a)
    assert "RecordUrl" not in enter_a  # the recording starts before an enter callback
    assert scene.room_events(name, "start-recording") == []
    b = scene.call("1802", '<Response><Conference callbackUrl="{base}/cb2" hangupOnStar="true">'
                           f"{name}</Conference><Hangup/></Response>")
    enter_b = scene.entered(b, "/cb2")
    assert enter_b["RecordUrl"] and enter_b["RecordingID"]
    scene.talk(a, 500)
    scene.dtmf(a, "*")
    scene.dtmf(b, "*")
    scene.hung_up(a)
    scene.hung_up(b)
    (record,) = scene.wait("the record callback", lambda: [
        h for h in scene.app.of("/cb2") if h.get("ConferenceAction") == "record"])
    assert record["CallUUID"] == enter_b["CallUUID"]
    assert record["RecordingID"] == enter_b["RecordingID"]
    assert [h for h in scene.app.of("/cb") if h.get("ConferenceAction") == "record"] == []
