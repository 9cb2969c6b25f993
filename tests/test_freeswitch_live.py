"""The files in freeswitch/ loaded into a real FreeSWITCH started just for this module.

It runs FreeSWITCH (FREESWITCH_PREFIX, default /usr/local/freeswitch) on ephemeral ports with
our conference.conf.xml, event_socket.conf.xml (port and password changed) and dialplan (socket
address changed), and checks what a call experiences. Skipped, with the reason, when no
FreeSWITCH binary is installed.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.parse
import uuid as uuidlib
import wave
from pathlib import Path

import pytest

from plivoxml_fs.fs import profile_check

pytestmark = pytest.mark.freeswitch

FS_DIR = Path(__file__).resolve().parent.parent / "freeswitch"
PREFIX = Path(os.environ.get("FREESWITCH_PREFIX", "/usr/local/freeswitch"))
BINARY, FS_CLI = PREFIX / "bin" / "freeswitch", PREFIX / "bin" / "fs_cli"
PASSWORD = "live-test-password"
START_TIMEOUT_S = 20.0

# Extensions for the checks: 9999 answers and parks; 9998 joins a room with the
# hangup-on-star controls, then parks when the conference application returns.
TEST_DIALPLAN = """<include>
  <extension name="park">
    <condition field="destination_number" expression="^9999$">
      <action application="answer"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="star">
    <condition field="destination_number" expression="^9998$">
      <action application="answer"/>
      <action application="set" data="conference_controls=hangup-on-star"/>
      <action application="conference" data="starroom@default"/>
      <action application="set" data="left_conference=yes"/>
      <action application="park"/>
    </condition>
  </extension>
</include>
"""

MAIN_XML = """<?xml version="1.0"?>
<document type="freeswitch/xml">
  <section name="configuration" description="Various Configuration">
    <configuration name="switch.conf" description="Core Configuration">
      <settings>
        <param name="loglevel" value="info"/>
      </settings>
    </configuration>
    <configuration name="modules.conf" description="Modules">
      <modules>
        <load module="mod_logfile"/>
        <load module="mod_event_socket"/>
        <load module="mod_commands"/>
        <load module="mod_dptools"/>
        <load module="mod_dialplan_xml"/>
        <load module="mod_conference"/>
        <load module="mod_loopback"/>
        <load module="mod_flite"/>
        <load module="mod_sndfile"/>
        <load module="mod_tone_stream"/>
      </modules>
    </configuration>
    <configuration name="logfile.conf" description="File Logging">
      <profiles>
        <profile name="default">
          <mappings>
            <map name="all" value="debug,info,notice,warning,err,crit,alert"/>
          </mappings>
        </profile>
      </profiles>
    </configuration>
    <X-PRE-PROCESS cmd="include" data="autoload_configs/*.xml"/>
  </section>
  <section name="dialplan" description="Regex/XML Dialplan">
    <context name="default">
      <X-PRE-PROCESS cmd="include" data="dialplan/*.xml"/>
    </context>
  </section>
</document>
"""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def replaced(text: str, old: str, new: str) -> str:
    """`text` with `old` (which must occur) replaced by `new`."""
    assert old in text, f"expected {old!r} in the shipped file"
    return text.replace(old, new)


class LiveFreeSwitch:
    """A FreeSWITCH process with our files, and `api` to talk to it through fs_cli."""

    def __init__(self, root: Path, listener: socket.socket) -> None:
        self.root = root
        self.esl_port = free_port()
        self.socket_port = listener.getsockname()[1]
        self.dead_port = free_port()
        self.process: subprocess.Popen | None = None

    def write_conf(self) -> None:
        conf = self.root / "conf"
        (conf / "autoload_configs").mkdir(parents=True)
        (conf / "dialplan").mkdir()
        shutil.copy(FS_DIR / "autoload_configs" / "conference.conf.xml", conf / "autoload_configs")
        esl = (FS_DIR / "autoload_configs" / "event_socket.conf.xml").read_text("utf-8")
        esl = replaced(esl, '"8021"', f'"{self.esl_port}"')
        esl = re.sub(r'(name="password" value=")[^"]*"', rf'\g<1>{PASSWORD}"', esl)
        (conf / "autoload_configs" / "event_socket.conf.xml").write_text(esl, "utf-8")
        plan = (FS_DIR / "dialplan" / "plivoxml.xml").read_text("utf-8")
        live = replaced(plan, "127.0.0.1:8084 async", f"127.0.0.1:{self.socket_port} async")
        (conf / "dialplan" / "00_plivoxml.xml").write_text(live, "utf-8")
        # the same extension for 75xx, pointing at a port where no daemon listens
        dead = replaced(plan, "127.0.0.1:8084 async", f"127.0.0.1:{self.dead_port} async")
        dead = replaced(dead, r"^(74\d\d)$", r"^(75\d\d)$")
        dead = replaced(dead, 'name="plivoxml-fs"', 'name="plivoxml-fs-down"')
        (conf / "dialplan" / "01_daemon_down.xml").write_text(dead, "utf-8")
        (conf / "dialplan" / "99_test.xml").write_text(TEST_DIALPLAN, "utf-8")
        (conf / "freeswitch.xml").write_text(MAIN_XML, "utf-8")

    def start(self) -> None:
        self.write_conf()
        dirs = {name: self.root / name for name in ("log", "db", "run", "tmp", "rec", "sounds")}
        for path in dirs.values():
            path.mkdir()
        self.process = subprocess.Popen(
            [str(BINARY), "-nf", "-nc", "-nonat", "-conf", str(self.root / "conf"),
             "-log", str(dirs["log"]), "-db", str(dirs["db"]), "-run", str(dirs["run"]),
             "-temp", str(dirs["tmp"]), "-storage", str(dirs["rec"]),
             "-recordings", str(dirs["rec"]), "-sounds", str(dirs["sounds"])],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"FreeSWITCH exited at start ({self.process.returncode})")
            if self.api("status").startswith("UP"):
                return
            time.sleep(0.2)
        raise RuntimeError(f"FreeSWITCH did not answer on ESL port {self.esl_port}")

    def api(self, command: str) -> str:
        done = subprocess.run(
            [str(FS_CLI), "-H", "127.0.0.1", "-P", str(self.esl_port), "-p", PASSWORD,
             "-x", command], capture_output=True, text=True, timeout=20,
        )
        return done.stdout.strip()

    def log_text(self) -> str:
        return (self.root / "log" / "freeswitch.log").read_text("utf-8", errors="replace")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.api("fsctl shutdown")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def listener():
    """The stand-in daemon's listening socket (accepts on demand)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(10)
        yield server


@pytest.fixture(scope="module")
def fs(tmp_path_factory, listener):
    """FreeSWITCH running our files; stopped after the module."""
    if not (BINARY.exists() and FS_CLI.exists()):
        pytest.skip(f"no FreeSWITCH installed at {PREFIX} (set FREESWITCH_PREFIX)")
    live = LiveFreeSwitch(tmp_path_factory.mktemp("freeswitch"), listener)
    try:
        live.start()
        yield live
    finally:
        live.stop()


def uuid_of(reply: str) -> str:
    """The uuid in an originate reply `+OK <uuid>`."""
    assert reply.startswith("+OK "), reply
    return reply.split()[1]


def b_leg(fs: LiveFreeSwitch, number: str) -> str:
    """The uuid of the loopback B leg that runs the dialplan for `number`."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for line in fs.api("show channels").splitlines():
            if f"loopback/{number}-b" in line:
                return line.split(",", 1)[0]
        time.sleep(0.1)
    raise AssertionError(f"no B leg for {number}: {fs.api('show channels')}")


@pytest.mark.parametrize(("profile", "rate"), [("default", "8000"), ("wideband", "16000")])
def test_profiles_run_at_their_rates(fs, profile, rate):
    """A room on each profile runs at its rate and reports the profile's name."""
    room = f"rate-{profile}"
    uuid = uuid_of(fs.api(f"originate loopback/9999/default &conference({room}@{profile})"))
    try:
        assert fs.api(f"conference {room} get rate") == rate
        assert fs.api(f"conference {room} get profile_name") == profile
    finally:
        fs.api(f"uuid_kill {uuid}")


def test_flite_speaks_in_a_room(fs):
    """The profiles' tts-engine/tts-voice make `conference say` work."""
    uuid = uuid_of(fs.api("originate loopback/9999/default &conference(say-room@default)"))
    try:
        assert fs.api("conference say-room say hello") == "+OK (say) OK"
    finally:
        fs.api(f"uuid_kill {uuid}")


def test_star_leaves_the_room_and_the_call_goes_on(fs):
    """With hangup-on-star, `*` takes the member out of the room; the call stays up and the
    dialplan continues after the conference application."""
    uuid_of(fs.api("originate loopback/9998/default &park"))
    member = b_leg(fs, "9998")
    try:
        assert fs.api("conference starroom list count") == "1"
        fs.api(f"uuid_recv_dtmf {member} *")
        deadline = time.monotonic() + 5
        while fs.api(f"uuid_getvar {member} left_conference") != "yes":
            assert time.monotonic() < deadline, "the member did not leave the room on *"
            time.sleep(0.1)
        assert fs.api(f"uuid_exists {member}") == "true"
        assert "starroom" not in fs.api("conference list")
    finally:
        fs.api(f"uuid_kill {member}")


def test_star_does_nothing_without_the_controls(fs):
    """The profiles' default group is `none`: `*` leaves the member in the room."""
    uuid = uuid_of(fs.api("originate loopback/9999/default &conference(quiet-room@default)"))
    try:
        fs.api(f"uuid_recv_dtmf {uuid} *")
        time.sleep(0.5)
        assert fs.api("conference quiet-room list count") == "1"
    finally:
        fs.api(f"uuid_kill {uuid}")


def read_connect_reply(conn: socket.socket) -> dict[str, str]:
    """Send `connect` as the daemon does and return the channel data headers, URL-decoded."""
    conn.sendall(b"connect\n\n")
    data = b""
    while b"\n\n" not in data:
        chunk = conn.recv(65536)
        assert chunk, "FreeSWITCH closed the socket before the connect reply"
        data += chunk
    head = data.split(b"\n\n", 1)[0].decode()
    return dict(
        (name, urllib.parse.unquote(value))
        for name, value in (line.split(": ", 1) for line in head.splitlines() if ": " in line)
    )


def test_dialplan_hands_the_call_to_the_daemon_with_its_variables(fs, listener):
    """A call to 74xx reaches the socket in async full mode with the plivoxml_* variables."""
    shipped = (FS_DIR / "dialplan" / "plivoxml.xml").read_text("utf-8")
    expected = dict(re.findall(r'data="(plivoxml_\w+)=([^"]*)"', shipped))
    uuid = str(uuidlib.uuid4())
    # bgapi: originate waits for the B leg, which waits for this test to accept
    assert fs.api(f"bgapi originate {{origination_uuid={uuid}}}loopback/7400/default &park")
    conn, _ = listener.accept()
    with conn:
        conn.settimeout(10)
        headers = read_connect_reply(conn)
        conn.sendall(b"exit\n\n")
    fs.api(f"uuid_kill {uuid}")
    assert (headers["Socket-Mode"], headers["Control"]) == ("async", "full")
    assert headers["Caller-Destination-Number"] == "7400"
    got = {k[len("variable_"):]: v for k, v in headers.items() if k.startswith("variable_plivoxml_")}
    assert got == expected


def test_unreachable_daemon_means_temporary_failure(fs):
    """When nothing listens on the socket address, the next dialplan line hangs up with 503."""
    fs.api("originate loopback/7500/default &park")
    deadline = time.monotonic() + 5
    while "hangup(TEMPORARY_FAILURE)" not in fs.log_text():
        assert time.monotonic() < deadline, "no hangup(TEMPORARY_FAILURE) in the FreeSWITCH log"
        time.sleep(0.1)
    assert "Socket Error" in fs.log_text()


def _first_member_hears(fs: LiveFreeSwitch, room: str, record: Path) -> list[int]:
    """Samples of what a new room's first member hears in its first 3.5 s (its loopback
    partner's read, recorded)."""
    member = f"alone-{uuidlib.uuid4()}"
    fs.api(f"originate {{origination_uuid={member}}}loopback/9999/default &conference({room})")
    partner = fs.api(f"uuid_getvar {member} other_loopback_leg_uuid")
    try:
        fs.api(f"uuid_setvar {partner} RECORD_READ_ONLY true")
        assert fs.api(f"uuid_record {partner} start {record}").startswith("+OK"), record
        want = 44 + 8000 * 2 * 35 // 10
        deadline = time.monotonic() + 15
        while not (record.exists() and record.stat().st_size >= want):
            assert time.monotonic() < deadline, "the recording did not grow to 3.5 s"
            time.sleep(0.1)
        fs.api(f"uuid_record {partner} stop {record}")
    finally:
        fs.api(f"uuid_kill {member}")
    with wave.open(str(record)) as wav:
        frames = wav.readframes(wav.getnframes())
    return [int.from_bytes(frames[i:i + 2], "little", signed=True)
            for i in range(0, len(frames) - 1, 2)]


def test_a_lone_member_hears_nothing_from_the_shipped_profiles(fs, tmp_path):
    """The shipped profiles' alone-sound (20 ms of silence) keeps FreeSWITCH from saying "You
    are currently the only person in this conference" to a new room's first member: silence
    for 3.5 s, and the daemon's start check (fs/profile_check.py) finds nothing to say. The same
    profile without alone-sound (added as `talky`, reloadxml) does talk, heard in the same way,
    and the check says why."""
    assert profile_check.check(fs.api, ["default", "wideband"]) == []
    quiet = _first_member_hears(fs, "alone-quiet@default", tmp_path / "quiet.wav")
    assert max(abs(s) for s in quiet) < 100

    conf = fs.root / "conf" / "autoload_configs" / "conference.conf.xml"
    text = conf.read_text("utf-8")
    default = re.search(r'<profile name="default">.*?</profile>', text, re.S).group(0)
    talky = re.sub(r'\s*<param name="alone-sound"[^>]*/>', "", default).replace(
        'name="default"', 'name="talky"')
    conf.write_text(replaced(text, "</profiles>", f"{talky}\n  </profiles>"), "utf-8")
    assert "+OK" in fs.api("reloadxml")
    (problem,) = profile_check.check(fs.api, ["talky"])
    assert "tts-engine and no alone-sound" in problem
    spoken = _first_member_hears(fs, "alone-talky@talky", tmp_path / "talky.wav")
    loud = sum(1 for s in spoken if abs(s) > 1000)
    assert loud > 8000 // 2, loud  # over half a second of loud speech
