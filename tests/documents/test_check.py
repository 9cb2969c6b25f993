"""check_paths: what `plivoxml-fs check FILE...` prints and whether it succeeds."""

from __future__ import annotations

from pathlib import Path

from plivoxml_fs.documents import check_paths

GOOD = '<Response>\n  <Conference maxMembers="5">room</Conference>\n</Response>\n'
BAD = '<Response>\n  <Conference maxMembers="500" muted="1">room</Conference>\n</Response>\n'


def write(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return str(path)


def test_valid_files_are_ok(tmp_path):
    """Every valid file gets an ok line and the result is a success."""
    a, b = write(tmp_path, "a.xml", GOOD), write(tmp_path, "b.xml", "<Response/>")
    assert check_paths([a, b]) == (True, f"{a}: ok\n{b}: ok")


def test_every_error_of_every_file_is_listed(tmp_path):
    """A bad file lists all its problems; the good ones still say ok; the result is failure."""
    good, bad = write(tmp_path, "good.xml", GOOD), write(tmp_path, "bad.xml", BAD)
    assert check_paths([bad, good]) == (
        False,
        f"{bad}:2:3 <Conference> maxMembers: must be an integer 1..20 (got '500')\n"
        f"{bad}:2:3 <Conference> muted: must be true or false (got '1')\n"
        f"{good}: ok",
    )


def test_unreadable_file_is_an_error(tmp_path):
    """A missing file is reported, not raised."""
    missing = str(tmp_path / "missing.xml")
    assert check_paths([missing]) == (False, f"{missing}: cannot read: No such file or directory")


def test_oversized_file_names_its_size(tmp_path):
    """A file over the cap is refused with its full size, without reading it all."""
    big = write(tmp_path, "big.xml", b"<Response>" + b" " * 2000 + b"</Response>")
    assert check_paths([big], max_bytes=1000) == (
        False, f"{big}: document is 2021 bytes, more than the limit of 1000 bytes; not parsed"
    )


def test_default_cap_is_the_daemons(tmp_path):
    """Without max_bytes, the daemon's max_document_bytes default applies."""
    from plivoxml_fs.config import Settings

    limit = Settings().max_document_bytes
    big = write(tmp_path, "big.xml", b"<Response>" + b" " * limit + b"</Response>")
    ok, text = check_paths([big])
    assert not ok and text.endswith(f"more than the limit of {limit} bytes; not parsed")


def test_the_shipped_examples_are_valid():
    """The example documents in the repository validate."""
    root = Path(__file__).resolve().parents[2] / "examples"
    paths = sorted(str(p) for p in root.rglob("*.xml"))
    assert paths
    ok, text = check_paths(paths)
    assert (ok, text) == (True, "\n".join(f"{p}: ok" for p in paths))


def test_warnings_are_printed_and_do_not_fail(tmp_path):
    """A document that runs but has attributes that do nothing prints warnings, then ok."""
    path = write(tmp_path, "w.xml", '<Response>\n  <Conference digitsMatch="12" '
                 'transcriptionType="auto">room</Conference>\n</Response>\n')
    assert check_paths([path]) == (
        True,
        f'warning: {path}:2:3 <Conference> transcriptionType: does nothing without record="true" '
        "(it transcribes the recording)\n"
        f"warning: {path}:2:3 <Conference> digitsMatch: does nothing without callbackUrl (that "
        "is where it is reported)\n"
        f"{path}: ok",
    )


def test_a_flood_of_problems_is_cut(tmp_path):
    """60,000 unknown elements print the first 20 problems and how many more there were."""
    path = write(tmp_path, "flood.xml", b"<Response>" + b"<X/>" * 60_000 + b"</Response>")
    ok, text = check_paths([path])
    lines = text.splitlines()
    assert not ok and len(lines) == 21
    assert lines[0].startswith(f"{path}:1:11 <X>: unknown element (known: ")
    assert lines[-1] == f"{path}: and 59980 more problems (only the first 20 are listed)"
