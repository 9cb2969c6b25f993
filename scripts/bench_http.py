"""Client CPU per request of effects/http11.py against a local keep-alive server.

A server process (gevent, canned replies, one keep-alive connection per client connection)
answers; the client runs in its own child process, which reads its own CPU time
(`time.process_time`) around N sequential requests and prints µs per request, for:

- `callback`: one POST of a callback's parameters (form-encoded, a signature header), the
  reply's 2-byte body read (what effects/outbox_delivery.py's `Sender._request` does);
- `fetch`: one `DocumentFetcher.fetch` POST of a call's parameters, a 700-byte text/xml
  document back (effects/fetch.py, everything included);
- `fetch_chunked`: the same document sent with chunked transfer coding;
- urllib3's `callback`: the same POST through urllib3's PoolManager, for reference (the figure
  the client's docstring compares with).

With `--reference-code DIR`, DIR's effects/http11.py (another checkout: the code before a
change) is loaded beside this one's in the same child, and the two (and urllib3) take turns
every 100 requests, so the machine's load falls on all alike. `--rounds` children; min/median/
max µs per request, and this/reference per round, are printed as one JSON object.

    .venv/bin/python scripts/bench_http.py --reference-code /tmp/before --rounds 5
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Response>\n'
            + b'  <Speak voice="WOMAN">Welcome to the conference room, please wait.</Speak>\n' * 8
            + b'  <Conference enterSound="beep:1">room-1</Conference>\n</Response>\n')
PARAMS = {
    "CallUUID": "4c3b4a1e-8f0e-4f7b-9a51-2a6b8f3c1d2e", "From": "+14155550100",
    "To": "+14155550199", "Direction": "inbound", "CallStatus": "in-progress",
    "Event": "ConferenceEnter", "ConferenceName": "room-1", "ConferenceUUID": "c0ffee-1234",
    "ConferenceMemberID": "17", "ConferenceAction": "enter", "CallerName": "Alice",
    "ConferenceFirstMember": "false", "ConferenceLastMember": "false",
    "ConferenceLastMemberUUID": "", "ConferenceMemberCount": "3",
}


def _reply(head: bytes, chunked: bool) -> bytes:
    path = head.split(b" ", 2)[1]
    if path.startswith(b"/doc"):
        if chunked:
            half = len(DOCUMENT) // 2
            parts = [DOCUMENT[:half], DOCUMENT[half:]]
            body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
            return (b"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n" + body)
        return (b"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\n"
                b"Content-Length: %d\r\n\r\n" % len(DOCUMENT) + DOCUMENT)
    return (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: Wed, 02 Dec 2026 18:00:00 GMT"
            b"\r\nServer: bench\r\nContent-Length: 2\r\n\r\nok")


def serve(port_file: str) -> None:
    from gevent import monkey

    monkey.patch_all()
    from gevent.server import StreamServer

    def handle(sock, _address):
        buf = b""
        while True:
            while b"\r\n\r\n" not in buf:
                data = sock.recv(65536)
                if not data:
                    return
                buf += data
            head, _, buf = buf.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while len(buf) < length:
                buf += sock.recv(65536)
            buf = buf[length:]
            sock.sendall(_reply(head, b"chunked" in head.split(b"\r\n", 1)[0]))

    server = StreamServer(("127.0.0.1", 0), handle)
    server.start()
    Path(port_file).write_text(str(server.server_port))
    server.serve_forever()


def _load_http11(code: str, name: str):
    """effects/http11.py of checkout `code` as its own module (so two can be compared in one
    process: the rest of plivoxml_fs is this checkout's)."""
    spec = importlib.util.spec_from_file_location(
        name, Path(code) / "plivoxml_fs" / "effects" / "http11.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def client(port: int, n: int, codes: list[str]) -> None:
    from gevent import monkey

    monkey.patch_all()
    sys.path.insert(0, str(ROOT))
    import urllib3

    from plivoxml_fs.effects.fetch import DocumentFetcher
    from plivoxml_fs.effects.urls import form_encode

    base = f"http://127.0.0.1:{port}"
    body = form_encode(PARAMS).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "X-Plivo-Signature-V2": "x" * 44, "X-Plivo-Signature-V2-Nonce": "1234567890"}

    def kinds(http11):
        http = http11.HttpClient(per_host=4, connect_timeout_s=3, read_timeout_s=10)
        fetcher = DocumentFetcher(connect_timeout_s=3, read_timeout_s=10, total_timeout_s=10,
                                  max_bytes=262144, client=http)

        def callback():
            with http.request("POST", base + "/callback", body=body,
                              headers=headers) as response:
                assert response.read(65536) == b"ok" and response.status == 200

        def fetch():
            assert fetcher.fetch(base + "/doc", "POST", PARAMS)[0] == DOCUMENT

        def fetch_chunked():
            assert fetcher.fetch(base + "/doc/chunked", "POST", PARAMS)[0] == DOCUMENT

        return {"callback": callback, "fetch": fetch, "fetch_chunked": fetch_chunked}

    pool = urllib3.PoolManager(maxsize=4, retries=False)

    def via_urllib3():
        reply = pool.request("POST", base + "/callback", body=body, headers=headers)
        assert reply.data == b"ok"

    sides = {code: kinds(_load_http11(code, f"http11_{i}")) for i, code in enumerate(codes)}
    sides["urllib3"] = {"callback": via_urllib3}
    spent = {(side, kind): 0.0 for side, table in sides.items() for kind in table}
    for (side, kind) in spent:  # warm: connections made, code paths run
        for _ in range(200):
            sides[side][kind]()
    block = 100  # the sides alternate every `block` requests: the machine's load hits all alike
    for _ in range(n // block):
        for (side, kind) in spent:
            one = sides[side][kind]
            start = time.process_time()
            for _ in range(block):
                one()
            spent[side, kind] += time.process_time() - start
    done = n // block * block
    result: dict[str, dict[str, float]] = {}
    for (side, kind), seconds in spent.items():
        result.setdefault(side, {})[kind] = round(seconds / done * 1e6, 1)
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="requests per kind and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reference-code", metavar="DIR",
                        help="also run with plivoxml_fs imported from DIR, alternating")
    parser.add_argument("--serve", metavar="PORT_FILE", help=argparse.SUPPRESS)
    parser.add_argument("--client", nargs="+", metavar="PORT CODE", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.serve:
        return serve(opts.serve)
    if opts.client:
        return client(int(opts.client[0]), opts.n, opts.client[1:])
    port_file = Path(f"/tmp/bench_http.{os.getpid()}.port")
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port_file)])
    try:
        while not port_file.exists() or not port_file.read_text():
            time.sleep(0.05)
        port = port_file.read_text()
        codes = [str(ROOT)]
        if opts.reference_code:
            codes.insert(0, str(Path(opts.reference_code).resolve()))
        names = {code: "this" if code == str(ROOT) else "reference" for code in codes}
        names["urllib3"] = "urllib3"
        rows = []
        for _ in range(opts.rounds):
            out = subprocess.run([sys.executable, __file__, "--n", str(opts.n), "--client",
                                  port, *codes], check=True, capture_output=True,
                                 text=True).stdout
            rows.append({names[side]: kinds for side, kinds in json.loads(out).items()})
        summary = {side: {kind: [min(r[side][kind] for r in rows),
                                 statistics.median(r[side][kind] for r in rows),
                                 max(r[side][kind] for r in rows)] for kind in rows[0][side]}
                   for side in rows[0]}
        if opts.reference_code:
            summary["this/reference"] = {
                kind: [round(r["this"][kind] / r["reference"][kind], 2) for r in rows]
                for kind in rows[0]["this"]}
        print(json.dumps({"us_per_request_min_median_max": summary,
                          "load": os.getloadavg()}, indent=1))
    finally:
        server.kill()
        port_file.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
