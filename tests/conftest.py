"""Test-wide set-up: gevent patches the standard library before anything else imports it."""

import os

if os.environ.get("PYTEST_XDIST_WORKER"):
    import worker_threads  # before the patches: see its docstring

    worker_threads.keep_real()

from gevent import monkey  # noqa: E402

monkey.patch_all()

import logging  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from ports import unused_port  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
#: The port examples/ documents name for the replay web app.
EXAMPLES_PORT = "127.0.0.1:8089"


@pytest.fixture(autouse=True)
def _isolated_logging():
    """Each test starts with the root logging set-up the previous one found, and leaves it so.

    Commands run in process (click's CliRunner) call `setup_logging`, which sets the root
    logger's level (replay: CRITICAL) and handler for the whole process, as a real command
    should; without this, such a test silences the ERROR records later tests read from caplog,
    and leaves a handler writing to CliRunner's closed stream.
    """
    root = logging.getLogger()
    ours = logging.getLogger("plivoxml_fs")
    saved = (root.level, list(root.handlers), ours.level, list(ours.handlers))
    yield
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]
    ours.setLevel(saved[2])
    ours.handlers[:] = saved[3]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """When pytest-xdist runs more workers than there are real FreeSWITCHes to go round
    (tests/fs/instances.py), the tests using one go to one worker, one at a time: they all
    get one xdist group (`--dist loadgroup`, as `make test` runs). Otherwise each worker has its
    own FreeSWITCH and they spread over the workers like any other test."""
    from fs.instances import SHARED, SHARED_GROUP

    if not SHARED:
        return
    here = str(Path(__file__).resolve().parent / "fs") + os.sep
    for item in items:
        if str(item.fspath).startswith(here) or item.get_closest_marker("freeswitch"):
            item.add_marker(pytest.mark.xdist_group(SHARED_GROUP))


def _unused_port() -> int:
    return unused_port()


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    return _unused_port()


@pytest.fixture
def examples(tmp_path):
    """A copy of examples/ whose URLs point at a free port, and that port."""
    port = _unused_port()
    target = tmp_path / "examples"
    shutil.copytree(EXAMPLES, target)
    for doc in target.rglob("*.xml"):
        doc.write_text(doc.read_text().replace(EXAMPLES_PORT, f"127.0.0.1:{port}"))
    return target, port
