"""The FreeSWITCH files in freeswitch/: well-formed, and saying what mod_conference,
mod_event_socket and the dialplan read (names checked against the FreeSWITCH 1.10 sources)."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

import pytest

from plivoxml_fs.fs import profile_check

FS_DIR = Path(__file__).resolve().parent.parent / "freeswitch"
CONFERENCE = FS_DIR / "autoload_configs" / "conference.conf.xml"
EVENT_SOCKET = FS_DIR / "autoload_configs" / "event_socket.conf.xml"
DIALPLAN = FS_DIR / "dialplan" / "plivoxml.xml"

# Profile params mod_conference.c (conference_new) reads, with "join-only-sound".
CONFERENCE_PARAMS = frozenset((
    "alone-sound", "announce-count", "auto-record", "bad-pin-sound", "caller-controls",
    "caller-id-name", "caller-id-number", "cdr-event-mode", "cdr-log-dir", "channels",
    "comfort-noise", "conference-flags", "deaf-sound", "description", "domain",
    "endconf-grace-time", "energy-level", "enter-sound", "exit-sound", "heartbeat-period-sec",
    "interval", "is-locked-sound", "is-unlocked-sound", "ivr-dtmf-timeout", "ivr-input-timeout",
    "join-only-sound", "kicked-sound", "locked-sound", "max-members", "max-members-sound",
    "member-enter-sound", "member-flags", "min-required-recording-participants",
    "moderator-controls", "moderator-pin", "moh-sound", "mute-detect-sound", "muted-sound",
    "perpetual-sound", "pin", "pin-retries", "pin-sound", "rate", "recording-metadata",
    "sound-prefix", "suppress-events", "terminate-on-silence", "timer-name", "tts-engine",
    "tts-voice", "undeaf-sound", "unmuted-sound", "verbose-events",
))
# Caller-control actions from conference_loop.c control_mappings (the audio ones).
CONTROL_ACTIONS = frozenset((
    "mute", "mute on", "mute off", "deaf mute", "deaf", "deaf on", "deaf off", "energy up",
    "energy equ", "energy dn", "vol talk up", "vol talk zero", "vol talk dn", "vol listen up",
    "vol listen zero", "vol listen dn", "hangup", "event", "lock", "transfer",
    "execute_application", "floor", "moh toggle",
))
# mod_event_socket.c config_load
EVENT_SOCKET_PARAMS = frozenset(
    {"listen-ip", "listen-port", "password", "nat-map", "debug", "apply-inbound-acl",
     "stop-on-bind-error"}
)
FS_XML_FILES = sorted(FS_DIR.rglob("*.xml"))


def parse(path: Path) -> ElementTree.Element:
    """The root element of an XML file (fails the test with the parser's message if malformed)."""
    return ElementTree.parse(path).getroot()


def params(element: ElementTree.Element) -> dict[str, str]:
    """name -> value of the <param> children; a repeated name fails."""
    found: dict[str, str] = {}
    for param in element.findall("param"):
        name = param.get("name")
        assert name not in found, f"param {name!r} set twice"
        found[name] = param.get("value")
    return found


def profiles() -> dict[str, dict[str, str]]:
    """Profile name -> its params."""
    root = parse(CONFERENCE)
    return {p.get("name"): params(p) for p in root.findall("profiles/profile")}


def test_there_are_files_to_check():
    """The three files exist, so the checks below cannot pass on nothing."""
    assert {CONFERENCE, EVENT_SOCKET, DIALPLAN} <= set(FS_XML_FILES)


@pytest.mark.parametrize("path", FS_XML_FILES, ids=lambda p: p.name)
def test_xml_is_well_formed_and_preprocessor_safe(path):
    """Each file parses; no line would be eaten by FreeSWITCH's preprocessor unexpectedly."""
    parse(path)
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        # switch_xml.c drops whole lines holding "<?" or "<include>"/"</include>"
        if "<?" in line or "<include>" in line or "</include>" in line:
            assert line.strip() in ('<?xml version="1.0" encoding="utf-8"?>', "<include>",
                                    "</include>"), f"{path.name}:{number} would be dropped: {line}"
        assert "X-PRE-PROCESS" not in line.upper(), f"{path.name}:{number}: preprocessor command"


# --- conference.conf.xml -----------------------------------------------------------------------


def test_conference_configuration_name():
    """The file is the conference.conf configuration mod_conference opens."""
    root = parse(CONFERENCE)
    assert (root.tag, root.get("name")) == ("configuration", "conference.conf")


def test_profiles_for_8_and_16_khz():
    """`default` runs at 8000 Hz and `wideband` at 16000 Hz, both with 20 ms frames."""
    found = profiles()
    assert set(found) == {"default", "wideband"}
    assert (found["default"]["rate"], found["wideband"]["rate"]) == ("8000", "16000")
    assert {p["interval"] for p in found.values()} == {"20"}


@pytest.mark.parametrize("name", ["default", "wideband"])
def test_profile_essentials(name):
    """Each profile sets energy, comfort noise, MOH, flite TTS and starts with no DTMF controls."""
    p = profiles()[name]
    assert int(p["energy-level"]) >= 0
    assert p["comfort-noise"] in ("true", "false")
    assert (p["tts-engine"], p["tts-voice"]) == ("flite", "slt")
    assert p["caller-controls"] == "none"
    # "silence" leaves room for the daemon's conference_moh_sound (switch_is_moh is false)
    assert p["moh-sound"] == "silence"
    assert p["sound-prefix"].startswith("$${sounds_dir}/")


@pytest.mark.parametrize("name", ["default", "wideband"])
def test_profiles_play_no_sound_of_their_own(name):
    """No enter/exit/kicked sounds: Plivo plays none unless the XML asks; alone-sound is 20 ms
    of silence, as unset (with the tts-engine) FreeSWITCH would say "You are currently the only
    person in this conference" (fs/profile_check.py finds nothing to say about the profile)."""
    p = profiles()[name]
    quiet = {"enter-sound", "exit-sound", "kicked-sound", "muted-sound",
             "unmuted-sound", "perpetual-sound", "member-enter-sound"}
    assert quiet.isdisjoint(p)
    assert p["alone-sound"] == "silence_stream://20" and p["tts-engine"]
    assert profile_check.problems(CONFERENCE.read_text("utf-8"), name) == []


@pytest.mark.parametrize("name", ["default", "wideband"])
def test_profile_params_are_ones_mod_conference_reads(name):
    """A misspelt param would be ignored silently by FreeSWITCH, so every name is checked."""
    assert set(profiles()[name]) - CONFERENCE_PARAMS == set()


def test_caller_control_groups():
    """Group `none` is empty and `hangup-on-star` binds only `*` to the hangup action."""
    root = parse(CONFERENCE)
    groups = {g.get("name"): g for g in root.findall("caller-controls/group")}
    assert set(groups) == {"none", "hangup-on-star"}
    assert list(groups["none"]) == []
    controls = [(c.tag, c.get("action"), c.get("digits")) for c in groups["hangup-on-star"]]
    assert controls == [("control", "hangup", "*")]


def test_caller_control_actions_exist():
    """Every control action is one mod_conference knows."""
    root = parse(CONFERENCE)
    actions = {c.get("action") for c in root.iter("control")}
    assert actions and actions <= CONTROL_ACTIONS


# --- event_socket.conf.xml ---------------------------------------------------------------------


def test_event_socket_settings():
    """Loopback on 8021 with the ACL, a placeholder password and only names FreeSWITCH reads."""
    root = parse(EVENT_SOCKET)
    assert (root.tag, root.get("name")) == ("configuration", "event_socket.conf")
    p = params(root.find("settings"))
    assert set(p) <= EVENT_SOCKET_PARAMS
    assert (p["listen-ip"], p["listen-port"], p["apply-inbound-acl"]) == (
        "127.0.0.1", "8021", "loopback.auto",
    )
    # never the well-known default, never empty (FreeSWITCH would fall back to ClueCon)
    assert p["password"] and p["password"] != "ClueCon"
    assert "CHANGE" in p["password"]


# --- dialplan ----------------------------------------------------------------------------------


def dialplan_actions():
    """(application, data) of the plivoxml-fs extension's actions, in order."""
    root = parse(DIALPLAN)
    assert root.tag == "include"
    (ext,) = root.findall("extension")
    assert ext.get("name") == "plivoxml-fs"
    (cond,) = ext.findall("condition")
    re.compile(cond.get("expression"))  # a valid regular expression (PCRE-compatible subset)
    return [(a.get("application"), a.get("data")) for a in cond.findall("action")]


def test_dialplan_sets_the_plivoxml_variables_before_the_socket():
    """Answer, fallback and hangup URL and method are set, then the socket, then a hangup."""
    actions = dialplan_actions()
    apps = [app for app, _ in actions]
    assert apps[-2:] == ["socket", "hangup"]
    assert set(apps[:-2]) == {"set"}
    variables = dict(data.split("=", 1) for _, data in actions[:-2])
    assert set(variables) == {
        "plivoxml_answer_url", "plivoxml_answer_method",
        "plivoxml_fallback_url", "plivoxml_fallback_method",
        "plivoxml_hangup_url", "plivoxml_hangup_method",
    }
    for name, value in variables.items():
        if name.endswith("_url"):
            assert re.fullmatch(r"https?://\S+", value), name
        else:
            assert value in ("GET", "POST"), name


def test_dialplan_variable_names_match_the_driver():
    """The names set here are the ones call/driver.py reads."""
    driver = (FS_DIR.parent / "plivoxml_fs" / "call" / "driver.py").read_text("utf-8")
    set_here = {data.split("=", 1)[0] for app, data in dialplan_actions() if app == "set"}
    assert {name for name in set_here if f'"{name}"' not in driver} == set()


def test_dialplan_socket_is_async_full_on_the_daemon_port():
    """The socket line is exactly `127.0.0.1:8084 async full` (the daemon's default listen)."""
    socket_data = [data for app, data in dialplan_actions() if app == "socket"]
    assert socket_data == ["127.0.0.1:8084 async full"]
