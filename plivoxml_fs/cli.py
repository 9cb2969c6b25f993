"""The command line: serve, replay, check, simulate. The only place gevent patches the stdlib."""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import signal  # noqa: E402
import sys  # noqa: E402

import click  # noqa: E402
import gevent  # noqa: E402
import gevent.event  # noqa: E402

from plivoxml_fs import __version__  # noqa: E402
from plivoxml_fs.errors import (  # noqa: E402
    EXIT_MEANINGS,
    ConfigError,
    DocumentInvalid,
    DocumentUnavailable,
    ExitCode,
    FreeSwitchUnreachable,
    ListenError,
    PlivoXMLError,
    StateInUse,
)

#: The exit status of each error class (the first match wins); any other error exits 1.
EXIT_BY_ERROR: tuple[tuple[type[BaseException], ExitCode], ...] = (
    (ConfigError, ExitCode.CONFIG),
    (DocumentInvalid, ExitCode.DOCUMENT),
    (DocumentUnavailable, ExitCode.DOCUMENT),
    (FreeSwitchUnreachable, ExitCode.FREESWITCH),
    (ListenError, ExitCode.LISTEN),
)


def exit_code_of(exc: BaseException) -> ExitCode:
    """The exit status `exc` gives: its class's from EXIT_BY_ERROR, else FAILURE (1)."""
    return next((code for kind, code in EXIT_BY_ERROR if isinstance(exc, kind)),
                ExitCode.FAILURE)


class Failed(click.ClickException):
    """An error printed as `Error: <what>` that exits with the status of its class."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__(str(exc))
        self.exit_code = int(exit_code_of(exc))


def _exit_help(*codes: ExitCode) -> str:
    """The `Exit status:` paragraph of a command's --help (kept as written: click's \\b)."""
    rows = "\n".join(f"  {int(code)}  {EXIT_MEANINGS[code]}" for code in codes)
    return f"\b\nExit status:\n{rows}"


_BASE_CODES = (ExitCode.OK, ExitCode.FAILURE, ExitCode.USAGE)
#: replay.DEFAULT_HTTP_PORT, for --help without importing replay (a test keeps them equal).
DEFAULT_HTTP_PORT = 8089
#: replay_hearing.MAX_CALLERS (one tone each), likewise.
HEARING_MAX_CALLERS = 6


def _host_port(value: str, what: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter(f"{what} must be HOST:PORT (got {value!r})")
    return host, int(port)


@click.group(context_settings={"help_option_names": ["-h", "--help"]},
             epilog=_exit_help(*ExitCode))
@click.version_option(__version__, prog_name="plivoxml-fs")
def main() -> None:
    """Execute Plivo-style XML (Conference, MultiPartyCall, Play, Speak, ...) on FreeSWITCH.

    FreeSWITCH hands each call to `serve` over the outbound event socket; `replay` runs a
    document against a test call and prints what happened; `check` validates documents;
    `simulate` runs the embedded FreeSWITCH on its own; `outbox list|retry|purge` shows and acts
    on stored callbacks.
    """


@main.command(epilog=_exit_help(*_BASE_CODES, ExitCode.CONFIG, ExitCode.LISTEN))
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="TOML settings file; PLIVOXML_FS_* environment variables override it.")
def serve(config_path: str | None) -> None:
    """Run the daemon: accept calls from FreeSWITCH's `socket ... async full` until SIGTERM.

    With api_port set, it also serves the control API (Plivo's Conference REST API for the
    accounts of api_auth) on api_host:api_port; see docs/api.md.

    SIGTERM or SIGINT stops accepting new calls and lets active calls finish for up to
    drain_timeout_s seconds before exiting.
    """
    from plivoxml_fs.config import load_settings
    from plivoxml_fs.logs import setup_logging
    from plivoxml_fs.service import Daemon

    try:
        settings = load_settings(config_path)
    except PlivoXMLError as exc:
        raise Failed(exc) from None
    setup_logging(settings.log_level, json=settings.log_json)
    daemon = Daemon(settings)
    try:
        daemon.start()
    except (ListenError, StateInUse) as exc:
        daemon.stop(drain_timeout_s=0)
        raise Failed(exc) from None
    stopping = gevent.event.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        gevent.signal_handler(signum, stopping.set)
    stopping.wait()
    daemon.stop()


@main.command(epilog=_exit_help(*ExitCode))
@click.argument("documents", nargs=-1, required=True, metavar="DOCUMENT...")
@click.option("--freeswitch", "freeswitch", default=None, metavar="HOST:PORT",
              help="A real FreeSWITCH's inbound ESL; without it the embedded one runs in process.")
@click.option("--password", default="ClueCon", show_default=True, help="ESL password.")
@click.option("--digits", default="", help="DTMF digits the caller presses once answered.")
@click.option("--digits-delay", default=1.0, show_default=True, type=float,
              help="Seconds after the call starts before the digits are pressed.")
@click.option("--from", "from_number", default="1000", show_default=True, help="Caller number.")
@click.option("--to", "to_number", default="2000", show_default=True, help="Called number.")
@click.option("--callers", default=1, show_default=True, type=click.IntRange(1, 500),
              help="How many test calls run the document at once.")
@click.option("--http-port", default=None, type=click.IntRange(0, 65535),
              help=f"Port of the local web app serving the document's directory and callbacks "
                   f"[default: {DEFAULT_HTTP_PORT}, or a free port when it is taken; in the XML "
                   f"files served, http://127.0.0.1:{DEFAULT_HTTP_PORT} names the web app's "
                   f"actual address]. A given port that is taken is an error.")
@click.option("--listen", default=None, metavar="HOST:PORT",
              help="Where the daemon listens for calls (default: 127.0.0.1:8084 with "
                   "--freeswitch, an ephemeral port otherwise).")
@click.option("--timeout", "call_timeout", default=60.0, show_default=True, type=float,
              help="Seconds a call may last before it is killed and counted as failed.")
@click.option("--time-scale", default=1.0, show_default=True, type=click.FloatRange(0.001, 1.0),
              help="Embedded FreeSWITCH only: media runs this much of real time (0.1 = 10x).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="TOML settings file for the daemon's other settings (callbacks, auth_token, "
                   "conferences, state_dir); the options above win over it. Without state_dir "
                   "there, the outbox and recordings go to a temporary directory removed at the "
                   "end.")
@click.option("--strict", is_flag=True,
              help="Fail (exit 8) when calls completed with warnings (e.g. a <Play> whose file "
                   "FreeSWITCH could not play).")
@click.option("--hearing", is_flag=True,
              help=f"Once every caller is in its room, each plays its own tone and what each "
                   f"hears is recorded; the transcript ends with who hears whom and which "
                   f"callers each WAV recording holds (at most {HEARING_MAX_CALLERS} "
                   f"callers). Callers that never all meet fail the run.")
@click.option("--hangup-after", "hangup_after", default=None, type=click.FloatRange(0),
              metavar="SECONDS",
              help="Seconds after every caller is in its room (and, with --hearing, measured) "
                   "before the callers still up hang up, in caller order.")
def replay(documents, freeswitch, password, digits, digits_delay, from_number, to_number, callers,
           http_port, listen, call_timeout, time_scale, config_path, strict, hearing,
           hangup_after) -> None:
    """Run DOCUMENT (a file or an http(s) URL) against test calls and print a transcript.

    Files beside a DOCUMENT file are served too (for Redirect and action URLs), at
    http://127.0.0.1:HTTP_PORT/<name>; requests under /callbacks/ are recorded and shown.
    With several DOCUMENT files (the members of a conference or an MPC), caller k runs the k-th document
    (--callers times each) and dials --to plus k-1; the files are served from the directory
    that holds them all. Each caller's role (Customer, Agent, Supervisor) is read from its
    document's <MultiPartyCall> and named in the transcript. Exits 0 when every call completed (the warnings of those that
    completed with some are listed at the end; --strict makes them fail), else with the status
    below and the reason in the transcript's FAILED lines.
    """
    from plivoxml_fs.logs import setup_logging
    from plivoxml_fs.replay import ReplayOptions, run_replay

    setup_logging("CRITICAL", json=False)
    if hearing and len(documents) * callers > HEARING_MAX_CALLERS:
        raise click.BadParameter(
            f"at most {HEARING_MAX_CALLERS} callers can be told apart by their tones "
            f"(got {len(documents) * callers})", param_hint="--hearing")
    fs = _host_port(freeswitch, "--freeswitch") if freeswitch else None
    if listen:
        listen_at = _host_port(listen, "--listen")
    else:
        listen_at = ("127.0.0.1", 8084) if fs else ("127.0.0.1", 0)
    options = ReplayOptions(
        document=documents[0], other_documents=tuple(documents[1:]), freeswitch=fs, password=password, digits=digits,
        digits_delay_s=digits_delay, from_number=from_number, to_number=to_number,
        callers=callers, http_port=http_port, listen=listen_at, call_timeout_s=call_timeout,
        time_scale=time_scale, config_path=config_path, strict=strict, hearing=hearing,
        hangup_after_s=hangup_after,
    )
    try:
        status = run_replay(options)
    except (OSError, PlivoXMLError, RuntimeError) as exc:
        raise Failed(exc) from None
    sys.exit(int(status))


@main.command(epilog=_exit_help(ExitCode.OK, ExitCode.USAGE, ExitCode.DOCUMENT))
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def check(files) -> None:
    """Validate XML documents: print `ok` or every problem; exit 0 when all are valid, else 4."""
    from plivoxml_fs.documents.check import check_paths

    ok, text = check_paths(files)
    click.echo(text)
    sys.exit(int(ExitCode.OK if ok else ExitCode.DOCUMENT))


@main.command(epilog=_exit_help(*_BASE_CODES, ExitCode.LISTEN))
@click.option("--listen", default="127.0.0.1:8021", show_default=True, metavar="HOST:PORT",
              help="Inbound ESL address of the embedded FreeSWITCH.")
@click.option("--password", default="ClueCon", show_default=True, help="ESL password.")
@click.option("--socket", "socket_at", default="127.0.0.1:8084", show_default=True,
              metavar="HOST:PORT", help="Where its dialplan sends calls (the daemon).")
def simulate(listen, password, socket_at) -> None:
    """Run the embedded FreeSWITCH on its own, so any ESL client can connect to it."""
    from plivoxml_fs.logs import setup_logging
    from plivoxml_fs.simulator import EmbeddedFreeSwitch
    from plivoxml_fs.simulator.server import SIMULATE_ENDED_KEPT

    setup_logging("INFO", json=False)
    inbound = _host_port(listen, "--listen")
    sim = EmbeddedFreeSwitch(
        inbound_address=inbound, password=password,
        socket_address=_host_port(socket_at, "--socket"),
        ended_kept=SIMULATE_ENDED_KEPT,  # it runs for as long as it is left running
    )
    try:
        sim.start()
    except OSError as exc:
        raise Failed(ListenError(inbound, "--listen", exc)) from None
    click.echo(f"embedded FreeSWITCH: inbound ESL on {listen}, calls go to {socket_at}")
    stopping = gevent.event.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        gevent.signal_handler(signum, stopping.set)
    stopping.wait()
    sim.stop()


# -- plivoxml-fs outbox: inspect and act on stored callbacks ------------------------------------

_OUTBOX_CONFIG = click.option(
    "--config", "config_path", type=click.Path(dir_okay=False), default=None,
    help="TOML settings file (the outbox is outbox_path, else <state_dir>/outbox.sqlite3).")


def _outbox_store(config_path: str | None):
    from pathlib import Path

    from plivoxml_fs.config import load_settings
    from plivoxml_fs.effects.outbox import outbox_path
    from plivoxml_fs.effects.store import OutboxStore

    try:
        path = outbox_path(load_settings(config_path))
    except PlivoXMLError as exc:
        raise Failed(exc) from None
    if not Path(path).is_file():
        raise click.ClickException(f"no outbox at {path}")
    return OutboxStore(path)


def _row_ids(ids: tuple[int, ...], all_dead: bool) -> tuple[int, ...]:
    if bool(ids) == all_dead:
        raise click.UsageError("give the ids of dead callbacks or --all-dead (not both)")
    return ids


_OUTBOX_HELP = _exit_help(*_BASE_CODES, ExitCode.CONFIG)


@main.group(epilog=_OUTBOX_HELP)
def outbox() -> None:
    """Inspect and act on stored callbacks (the durable outbox).

    A callback is `pending` until delivered (then removed) or `dead` after its last attempt.
    A running daemon picks up callbacks made pending here (by `retry`) within a few seconds;
    otherwise they are delivered at its next start.
    """


@outbox.command("list", epilog=_OUTBOX_HELP)
@_OUTBOX_CONFIG
@click.option("--state", type=click.Choice(["pending", "dead", "all"]), default="all",
              show_default=True, help="Which callbacks to list.")
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True,
              help="List at most this many (oldest first).")
def outbox_list(config_path, state, limit) -> None:
    """List stored callbacks: id, state, attempts, kind, call, method, URL, last error."""
    import time

    from plivoxml_fs.effects.urls import shown_url

    store = _outbox_store(config_path)
    rows = store.rows(None if state == "all" else state, limit=limit)
    for row in rows:
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(row.created))
        click.echo(f"{row.id}\t{row.state}\t{row.attempts}\t{created}\t{row.kind}\t"
                   f"{row.call_uuid}\t{row.method} {shown_url(row.url)}\t{row.last_error}")
    click.echo(f"{len(rows)} callback(s) listed; {store.count('pending')} pending, "
               f"{store.count('dead')} dead in {store.path}")


@outbox.command("retry", epilog=_OUTBOX_HELP)
@_OUTBOX_CONFIG
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-dead", is_flag=True, help="Retry every dead callback.")
def outbox_retry(config_path, ids, all_dead) -> None:
    """Make dead callbacks (by id, or --all-dead) pending again, with their attempts reset."""
    store = _outbox_store(config_path)
    count = store.retry(_row_ids(ids, all_dead))
    click.echo(f"{count} dead callback(s) made pending again in {store.path}")


@outbox.command("purge", epilog=_OUTBOX_HELP)
@_OUTBOX_CONFIG
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-dead", is_flag=True, help="Delete every dead callback.")
def outbox_purge(config_path, ids, all_dead) -> None:
    """Delete dead callbacks (by id, or --all-dead); pending ones are never deleted."""
    store = _outbox_store(config_path)
    count = store.purge(_row_ids(ids, all_dead))
    click.echo(f"{count} dead callback(s) deleted from {store.path}")
