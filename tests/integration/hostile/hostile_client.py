#!/usr/bin/python3
"""A hostile HTTP client, run by hostile_client_test.sh against a running cte-operator (its
metrics, probe and ingest ports) and a TLS listener (the tenant simulator with --tls-cert).

It tries what an attacker on the network would: request smuggling (duplicate Content-Length,
Content-Length with Transfer-Encoding, bad chunk sizes, trailers), slowloris, thousands of idle
connections, a 64 MiB body to a 1 MiB route, HEAD, and 65,000-deep JSON. Every check is bounded
in time and talks to 127.0.0.1 only. Standard library only (Debian's /usr/bin/python3).
Exits 0 when every check passed, 1 otherwise, printing one line per check.
"""

import argparse
import json
import resource
import socket
import ssl
import sys
import threading
import time

TIMEOUT = 10.0  # seconds for any single read
FAILURES = []
LOCK = threading.Lock()


def check(name, ok, detail=""):
    with LOCK:
        print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + detail), flush=True)
        if not ok:
            FAILURES.append(name)


def split(addr):
    host, port = addr.rsplit(":", 1)
    return host, int(port)


class Target:
    """Where to connect, plain or TLS."""

    def __init__(self, name, addr, ca=None):
        self.name = name
        self.host, self.port = split(addr)
        self.context = None
        if ca:
            self.context = ssl.create_default_context(cafile=ca)

    def connect(self, timeout=TIMEOUT):
        s = socket.create_connection((self.host, self.port), timeout=timeout)
        if self.context:
            s = self.context.wrap_socket(s, server_hostname=self.host)
        return s


def read_until_close(s, limit=1 << 20, timeout=TIMEOUT):
    """Everything the server sends until it closes (or `timeout` passes): (data, closed)."""
    s.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    try:
        while len(data) < limit and time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                return data, True
            data += chunk
    except (socket.timeout, TimeoutError):
        return data, False
    except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError):
        return data, True
    return data, False


def read_response_head(s, timeout=TIMEOUT):
    """Bytes up to and including the blank line after the headers, and whatever followed."""
    s.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head + b"\r\n\r\n", rest


def status_of(data):
    try:
        return int(data.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


# --- smuggling: 400 and the connection closed ---------------------------------------------------

SMUGGLING = {
    "duplicate Content-Length": (
        b"GET {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"
        b"helloGET {path} HTTP/1.1\r\nHost: x\r\n\r\n"),
    "Content-Length and Transfer-Encoding": (
        b"GET {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n"
        b"\r\n0\r\n\r\nGET {path} HTTP/1.1\r\nHost: x\r\n\r\n"),
    "chunk size overflow": (
        b"GET {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"10000000000000001\r\nx\r\n0\r\n\r\n"),
    "chunk size not hex": (
        b"GET {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nx\r\n"),
    "negative chunk size": (
        b"GET {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nx\r\n"),
    "trailers": (
        b"GET {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
        b"0\r\nX-Smuggled: 1\r\n\r\nGET {path} HTTP/1.1\r\nHost: x\r\n\r\n"),
    "Transfer-Encoding with an extra coding": (
        b"GET {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
        b"0\r\n\r\n"),
}


def smuggling(target, path, refused=(400,)):
    """`refused`: the statuses that count as the refusal (a route that checks a token from the
    headers may refuse with 401 before the body's framing is read; either way one answer, then
    the connection closes)."""
    for name, raw in SMUGGLING.items():
        s = target.connect()
        try:
            s.sendall(raw.replace(b"{path}", path.encode()))
            data, closed = read_until_close(s)
        finally:
            s.close()
        ok = status_of(data) in refused and closed and data.count(b"HTTP/1.1 ") == 1
        check(f"{target.name}: {name} -> {'/'.join(map(str, refused))} and close", ok,
              repr(data[:200]))


# --- slowloris: cut within the header deadline ----------------------------------------------------

def slowloris(target, path, header_deadline):
    s = target.connect()
    start = time.monotonic()
    closed = False
    try:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n".encode())
        # One header byte a second: never idle long, never finished.
        while time.monotonic() - start < header_deadline + 10:
            try:
                s.sendall(b"X")
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
                closed = True
                break
            s.settimeout(1.0)
            try:
                if s.recv(1024) == b"":
                    closed = True
                    break
            except (socket.timeout, TimeoutError):
                pass
            except (ConnectionResetError, ssl.SSLError, OSError):
                closed = True
                break
    finally:
        s.close()
    elapsed = time.monotonic() - start
    check(f"{target.name}: slowloris is cut within the {header_deadline:.0f} s header deadline",
          closed and elapsed < header_deadline + 3, f"closed={closed} after {elapsed:.1f} s")


def silent_tls(target, handshake_deadline):
    """A TCP connection to a TLS port that never starts the handshake."""
    start = time.monotonic()
    s = socket.create_connection((target.host, target.port), timeout=TIMEOUT)
    data, closed = read_until_close(s, timeout=handshake_deadline + 5)
    s.close()
    elapsed = time.monotonic() - start
    check(f"{target.name}: a silent client is cut within the {handshake_deadline:.0f} s "
          "handshake deadline", closed and elapsed < handshake_deadline + 3,
          f"closed={closed} after {elapsed:.1f} s")


# --- thousands of idle connections ----------------------------------------------------------------

def idle_connections(idle, probe, count):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 200), hard))
    sockets = []
    try:
        for _ in range(count):
            sockets.append(socket.create_connection((idle.host, idle.port), timeout=TIMEOUT))
        start = time.monotonic()
        s = probe.connect()
        try:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data, _ = read_until_close(s)
        finally:
            s.close()
        elapsed = time.monotonic() - start
        check(f"{count} idle connections to {idle.name} do not stop /healthz",
              status_of(data) == 200 and elapsed < 5, f"{data[:100]!r} after {elapsed:.1f} s")
    finally:
        for s in sockets:
            s.close()


# --- a 64 MiB body to a 1 MiB route -----------------------------------------------------------------

def big_body(target, method, path, extra_headers=b"", expect=413):
    s = target.connect()
    start = time.monotonic()
    sent = 0
    try:
        s.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {64 << 20}\r\n".encode()
                  + extra_headers + b"\r\n")
        # The answer comes before any of the body is sent.
        head, _ = read_response_head(s)
        elapsed = time.monotonic() - start
        # And the server does not read the body: sending it fails long before 64 MiB.
        s.settimeout(TIMEOUT)
        piece = b"x" * (1 << 20)
        try:
            while sent < (64 << 20):
                s.sendall(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError, socket.timeout):
            pass
    finally:
        s.close()
    check(f"{target.name}: a 64 MiB body to {method} {path} is refused ({expect}) before it is sent",
          status_of(head) == expect and elapsed < 5 and sent < (64 << 20),
          f"{head[:100]!r} after {elapsed:.1f} s, {sent >> 20} MiB accepted")


# --- HEAD has no body -------------------------------------------------------------------------------

def head_has_no_body(target, path, extra_headers=b""):
    s = target.connect()
    try:
        request = (f"HEAD {path} HTTP/1.1\r\nHost: x\r\n".encode() + extra_headers + b"\r\n"
                   + f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".encode()
                   + extra_headers + b"\r\n")
        s.sendall(request)
        head, rest = read_response_head(s)
        data, _ = read_until_close(s)
        rest += data
    finally:
        s.close()
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    # What follows the HEAD answer is the GET's answer, not a body.
    check(f"{target.name}: HEAD {path} has no body",
          status_of(head) == 200 and length > 0 and rest.startswith(b"HTTP/1.1 200"),
          f"{head[:80]!r} then {rest[:40]!r}")


# --- 65,000-deep JSON ---------------------------------------------------------------------------------

def deep_json(target, path, auth_header, refused=400):
    body = b"[" * 65000 + b"]" * 65000
    s = target.connect()
    try:
        s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\n{auth_header}\r\n"
                  f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                  "Connection: close\r\n\r\n".encode() + body)
        data, _ = read_until_close(s)
    finally:
        s.close()
    # Still serving afterwards: no crash.
    s = target.connect()
    try:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n{auth_header}\r\n"
                  "Connection: close\r\n\r\n".encode())
        after, _ = read_until_close(s)
    finally:
        s.close()
    check(f"{target.name}: 65,000-deep JSON -> {refused}, and the server keeps serving",
          status_of(data) == refused and status_of(after) == 200,
          f"{data[:120]!r}; then {after[:60]!r}")


# --- the ingest API: a token, then the same attacks with and without it ---------------------------

def ingest_token(target, client):
    """A bearer token from POST /api/auth for `client` ("id:secret")."""
    client_id, secret = client.split(":", 1)
    form = f"grant_type=client_credentials&client_id={client_id}&client_secret={secret}".encode()
    s = target.connect()
    try:
        s.sendall(b"POST /api/auth HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                  b"Content-Type: application/x-www-form-urlencoded\r\n"
                  + f"Content-Length: {len(form)}\r\n\r\n".encode() + form)
        data, _ = read_until_close(s)
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    if status_of(head) != 200:
        check(f"{target.name}: a token from /api/auth", False, repr(data[:200]))
        return None
    return json.loads(body)["access_token"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--metrics", required=True, help="operator metrics HOST:PORT")
    parser.add_argument("--probes", required=True, help="operator probes HOST:PORT")
    parser.add_argument("--tls", required=True, help="TLS listener HOST:PORT (tenant simulator)")
    parser.add_argument("--ca", required=True, help="CA certificate of the TLS listener")
    parser.add_argument("--token", required=True, help="v2 token of the TLS listener")
    parser.add_argument("--ingest", required=True, help="operator ingest API HOST:PORT (plain)")
    parser.add_argument("--ingest-client", required=True, help="CLIENT_ID:SECRET for /api/auth")
    parser.add_argument("--idle", type=int, default=5000)
    parser.add_argument("--header-deadline", type=float, default=10)
    parser.add_argument("--handshake-deadline", type=float, default=10)
    args = parser.parse_args()

    metrics = Target("metrics port", args.metrics)
    probes = Target("probe port", args.probes)
    tls = Target("TLS listener", args.tls, ca=args.ca)
    ingest = Target("ingest port", args.ingest)
    indicators = "/api/cte/indicators"
    token_header = f"Netskope-Api-Token: {args.token}\r\n".encode()
    lists = "/api/v2/policy/urllist"

    # The slow checks run in the background while the quick ones go on.
    slow = [
        threading.Thread(target=slowloris, args=(metrics, "/metrics", args.header_deadline)),
        threading.Thread(target=slowloris, args=(tls, lists, args.header_deadline)),
        threading.Thread(target=silent_tls, args=(tls, args.handshake_deadline)),
        threading.Thread(target=slowloris, args=(ingest, indicators, args.header_deadline)),
    ]
    for t in slow:
        t.start()

    smuggling(metrics, "/metrics")
    smuggling(tls, lists)
    big_body(metrics, "GET", "/metrics")  # the only route there: 1 MiB, like every default
    big_body(tls, "POST", lists, token_header)  # 32 MiB on the simulator
    head_has_no_body(metrics, "/metrics")
    head_has_no_body(tls, lists, token_header)
    deep_json(tls, lists, f"Netskope-Api-Token: {args.token}")
    # The ingest API checks the bearer token on the headers: without one, 401 before the body.
    smuggling(ingest, indicators, refused=(400, 401))
    big_body(ingest, "POST", indicators, expect=401)
    token = ingest_token(ingest, args.ingest_client)
    if token:
        bearer = f"Authorization: Bearer {token}"
        big_body(ingest, "POST", indicators, (bearer + "\r\n").encode())  # 16 MiB limit
        deep_json(ingest, indicators, bearer, refused=422)
    idle_connections(probes, probes, args.idle)
    idle_connections(metrics, probes, args.idle)
    idle_connections(ingest, probes, args.idle)

    for t in slow:
        t.join()
    print(f"{len(FAILURES)} check(s) failed" if FAILURES else "all checks passed", flush=True)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
