#!/usr/bin/python3
"""Sharing benchmarks (issue 10 §5): the real cte-operator, local API server and tenant simulators
(Release build), driven from here with kubectl and HTTP on loopback. Prints its figures.

Scenarios (--scenario, default all):
  latency  one indicator POSTed to the ingest API -> present and deployed on the simulator
  idle     nothing changed: tenant calls per syncInterval, from the simulator's request log
  append   1% added to a 300,000-entry URL list: bytes of the operator's append, beside the bytes
           of a full replace of the same list sent in the same run
  scale    N tenants x M SharingConfigurations (one simulator process per tenant), cold start to
           all converged: time, peak resident memory, 429s from the simulators' limiters

Standard library only (Debian's python3). Run through hack/bench/sharing_bench.sh.
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

BIN = None
OPERATOR = None  # the cte-operator binary (default: BIN's); --operator compares another build
SRC = None
WORK = None
PROCS = []

V1_TOKEN = "bench-v1-token"
V2_TOKEN = "bench-v2-token"
CLIENT_SECRET = "bench-client-secret-0b5e"


def log(msg):
    print(msg, flush=True)


class Http:
    """A keep-alive HTTP/1.1 connection to host:port (loopback only)."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base if "://" in base else "http://" + base)
        self.host, self.port = u.hostname, u.port
        self.conn = None

    def call(self, method, path, body=None, headers=None, timeout=60):
        data = None
        hdrs = dict(headers or {})
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body, separators=(",", ":"))
            if isinstance(data, str):
                data = data.encode()
            hdrs.setdefault("Content-Type", "application/json")
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
            try:
                self.conn.request(method, path, body=data, headers=hdrs)
                r = self.conn.getresponse()
                payload = r.read()
                return r.status, payload
            except (ConnectionError, http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def json(self, method, path, body=None, headers=None):
        status, payload = self.call(method, path, body, headers)
        if status >= 300:
            raise RuntimeError(f"{method} {path}: HTTP {status}: {payload[:300]!r}")
        return json.loads(payload) if payload else None


def wait_until(what, fn, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout} s")
        time.sleep(interval)


def start(name, args, stdout_file=None):
    out = open(os.path.join(WORK, f"{name}.out"), "w") if stdout_file is None else stdout_file
    err = open(os.path.join(WORK, f"{name}.log"), "w")
    p = subprocess.Popen(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    PROCS.append(p)
    return p


def first_line(path):
    try:
        with open(path) as f:
            return f.readline().strip()
    except FileNotFoundError:
        return ""


def kubectl(*args, input_text=None):
    r = subprocess.run(["kubectl", "--kubeconfig", os.path.join(WORK, "kubeconfig"), "--cache-dir",
                        os.path.join(WORK, "kube-cache"), *args], input=input_text, text=True,
                       capture_output=True)
    if r.returncode != 0:
        raise RuntimeError(f"kubectl {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


def apply_docs(docs):
    # A stream of JSON objects, which kubectl's decoder reads one after the other.
    kubectl("apply", "-f", "-", input_text="\n".join(json.dumps(d) for d in docs))


def start_apiserver():
    start("apiserver", [f"{BIN}/local-apiserver", "--listen", "127.0.0.1:0", "--kubeconfig-out",
                        os.path.join(WORK, "kubeconfig")])
    wait_until("local-apiserver start", lambda: first_line(os.path.join(WORK, "apiserver.out")), 20)
    kubectl("apply", "-f", os.path.join(SRC, "crds"))


def start_simulator(name, extra_config=None, limits=None):
    cfg = {"fileHashLists": []}
    if limits:
        cfg["limits"] = limits
    cfg.update(extra_config or {})
    path = os.path.join(WORK, f"{name}.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    p = start(name, [f"{BIN}/tenant-simulator", "--listen", "127.0.0.1:0", "--config", path,
                     "--v1-token", V1_TOKEN, "--v2-token", V2_TOKEN])
    return p


def simulator_url(name):
    return wait_until(f"{name} start", lambda: first_line(os.path.join(WORK, f"{name}.out")), 30)


def start_operator(workers=None, store="indicators.db"):
    args = [OPERATOR, "--kubeconfig", os.path.join(WORK, "kubeconfig"),
            "--store", "sqlite://" + os.path.join(WORK, store),
            "--ingest-bind-address", "127.0.0.1:0", "--ingest-insecure",
            "--metrics-bind-address", "127.0.0.1:0", "--health-probe-bind-address", "127.0.0.1:0"]
    if workers:
        args += ["--workers", str(workers)]
    p = start("operator", args)
    addresses = {}

    def servers():
        with open(os.path.join(WORK, "operator.log")) as f:
            for line in f:
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                if "server" in e and "address" in e:
                    addresses[e["server"]] = e["address"]
        if p.poll() is not None:
            raise RuntimeError("cte-operator exited; see " + os.path.join(WORK, "operator.log"))
        return all(k in addresses for k in ("ingest", "metrics", "probes"))

    wait_until("cte-operator start", servers, 30)
    return p, addresses


def source_objects(source):
    """An API Source (one per scenario, so scenarios do not feed each other's lists)."""
    return [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"{source}-credentials"},
         "stringData": {"client_id": f"{source}-client", "client_secret": CLIENT_SECRET}},
        {"apiVersion": "cte.netskope.io/v1alpha1", "kind": "CTEPlugin",
         "metadata": {"name": source},
         "spec": {"type": "APISource", "agingDays": 30,
                  "apiSource": {"credentialsSecretRef": {"name": f"{source}-credentials"}}}},
    ]


def common_objects():
    """A rule that takes every severity, and the tenants' tokens."""
    return [
        {"apiVersion": "cte.netskope.io/v1alpha1", "kind": "BusinessRule",
         "metadata": {"name": "everything"},
         "spec": {"filter": {"all": [{"field": "severity", "operator": "In",
                                      "values": ["unknown", "low", "medium", "high",
                                                 "critical"]}]}}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tenant-tokens"},
         "stringData": {"v1-token": V1_TOKEN, "v2-token": V2_TOKEN}},
    ]


def tenant_objects(name, url):
    return [
        {"apiVersion": "cte.netskope.io/v1alpha1", "kind": "NetskopeTenant",
         "metadata": {"name": name},
         "spec": {"tenantName": f"{name}.goskope.com", "apiBaseURL": url,
                  "v1TokenSecretRef": {"name": "tenant-tokens", "key": "v1-token"},
                  "v2TokenSecretRef": {"name": "tenant-tokens", "key": "v2-token"}}},
        {"apiVersion": "cte.netskope.io/v1alpha1", "kind": "CTEPlugin",
         "metadata": {"name": f"{name}-dest"},
         "spec": {"type": "Netskope", "tenantRef": {"name": name},
                  "netskope": {"enablePolling": False}}},
    ]


def sharing_object(name, source, tenant, list_name, sync_interval="10m", size_mb=7):
    return {"apiVersion": "cte.netskope.io/v1alpha1", "kind": "SharingConfiguration",
            "metadata": {"name": name},
            "spec": {"sourcePluginRef": {"name": source}, "businessRuleRef": {"name": "everything"},
                     "destinationPluginRef": {"name": f"{tenant}-dest"},
                     "target": {"type": "URLList", "listName": list_name, "urlListType": "exact",
                                "listSizeMB": size_mb},
                     "syncInterval": sync_interval, "ownership": "Exclusive"}}


class Ingest:
    """Pushes indicators as the API Source `source` (registered from its Secret by cte-operator)."""

    def __init__(self, address, source):
        apply_docs(source_objects(source))
        self.source = source
        self.http = Http(address)
        form = urllib.parse.urlencode({"grant_type": "client_credentials",
                                       "client_id": f"{source}-client",
                                       "client_secret": CLIENT_SECRET})

        def token():
            s, body = self.http.call("POST", "/api/auth", form,
                                     {"Content-Type": "application/x-www-form-urlencoded"})
            return json.loads(body)["access_token"] if s == 200 else None

        self.token = wait_until("APISource credentials registered", token, 30, 0.1)

    def push(self, values, kind="domain"):
        body = [{"value": v, "type": kind, "source": self.source, "severity": "high"} for v in values]
        s, payload = self.http.call("POST", "/api/cte/indicators", body,
                                    {"Authorization": "Bearer " + self.token})
        if s != 201:
            raise RuntimeError(f"ingest POST: HTTP {s}: {payload[:300]!r}")


def url_lists(sim):
    return {l["name"]: l for l in sim.json("GET", "/__sim/urllists")["urlLists"]}


def deployed(lst):
    return lst is not None and not lst["pending"] and lst.get("applied") is not None


def percentile(sorted_values, q):
    # Nearest rank, so p99 of 100 samples is the 99th value.
    rank = max(1, int(-(-q * len(sorted_values) // 100)))
    return sorted_values[rank - 1]


def rss_kib(pid, key="VmRSS:"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1])
    return -1


def request_log(sim):
    return sim.json("GET", "/__sim/requests")


def count_429(log_json):
    return sum(1 for r in log_json["requests"] if r["status"] == 429)


# --- scenarios --------------------------------------------------------------------------------


def scenario_latency(address, samples):
    ingest = Ingest(address, "latency")
    start_simulator("sim-latency")
    url = simulator_url("sim-latency")
    sim = Http(url)
    apply_docs(tenant_objects("latency", url) +
               [sharing_object("latency", "latency", "latency", "bench-latency")])
    ingest.push(["seed.latency.example"])
    wait_until("bench-latency created and deployed",
               lambda: "seed.latency.example" in ((url_lists(sim).get("bench-latency") or {})
                                                  .get("applied") or {}).get("urls", []), 60)
    latencies = []
    for i in range(samples):
        value = f"s{i}.latency.example"
        t0 = time.monotonic()
        ingest.push([value])

        def seen():
            lst = url_lists(sim).get("bench-latency")
            return deployed(lst) and value in lst["applied"]["urls"]

        wait_until(f"sample {i} deployed", seen, 30, 0.01)
        latencies.append(time.monotonic() - t0)
    latencies.sort()
    log(f"latency: POST one indicator -> deployed on the simulator, {samples} samples, "
        f"default debounce (1 s)")
    log(f"  p50 {percentile(latencies, 50):.3f} s  p99 {percentile(latencies, 99):.3f} s  "
        f"min {latencies[0]:.3f} s  max {latencies[-1]:.3f} s")
    return {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99)}


def scenario_idle(address, lists, interval_s, intervals):
    ingest = Ingest(address, "idle")
    start_simulator("sim-idle")
    url = simulator_url("sim-idle")
    sim = Http(url)
    docs = tenant_objects("idle", url)
    for i in range(lists):
        docs.append(sharing_object(f"idle-{i}", "idle", "idle", f"bench-idle-{i}", f"{interval_s}s"))
    ingest.push([f"i{i}.idle.example" for i in range(100)])
    apply_docs(docs)

    def converged():
        ls = url_lists(sim)
        return all(deployed(ls.get(f"bench-idle-{i}")) and
                   len(ls[f"bench-idle-{i}"]["applied"]["urls"]) >= 100 for i in range(lists))

    wait_until("idle lists converged", converged, 120, 0.2)
    # Let the cycles that converged finish (their status writes do not touch the tenant), then
    # count whole intervals.
    time.sleep(interval_s)
    sim.call("DELETE", "/__sim/requests")
    time.sleep(interval_s * intervals)
    log_json = request_log(sim)
    entries = log_json["endpoints"]
    reads = sum(e["requests"] for k, e in entries.items() if k.startswith("GET "))
    writes = sum(e["requests"] for k, e in entries.items() if not k.startswith("GET "))
    # A cycle's calls come within a second or two; cycles are a syncInterval apart (counted from
    # the end of the previous one), so a gap of half an interval separates them.
    times = sorted(r["time"] for r in log_json["requests"])
    cycles = sum(1 for i, t in enumerate(times) if i == 0 or t - times[i - 1] > interval_s / 2)
    log(f"idle: {lists} URL lists, syncInterval {interval_s} s, {interval_s * intervals} s "
        f"observed, {cycles} sync cycles")
    for k, e in sorted(entries.items()):
        log(f"  {k}: {e['requests']} requests, statuses {e['statuses']}")
    log(f"  per cycle: {reads / max(cycles, 1):.2f} reads, {writes / max(cycles, 1):.2f} writes; "
        f"per {interval_s} s: {reads / intervals:.2f} reads (target: one read per URL list, "
        f"{lists}, and 0 writes)")
    return {"reads_per_cycle": reads / max(cycles, 1), "writes": writes}


def scenario_append(address, entries):
    ingest = Ingest(address, "append")
    base = entries - entries // 100
    added = entries - base
    start_simulator("sim-append")
    url = simulator_url("sim-append")
    sim = Http(url)
    log(f"append: pushing {base} indicators")
    batch = 5000
    for i in range(0, base, batch):
        ingest.push([f"b{j:06d}.example" for j in range(i, min(base, i + batch))])
    apply_docs(tenant_objects("append", url) +
               [sharing_object("append", "append", "append", "bench-append")])

    def holds(n):
        def check():
            lst = url_lists(sim).get("bench-append")
            return deployed(lst) and len(lst["applied"]["urls"]) == n
        return check

    wait_until(f"bench-append holds {base}", holds(base), 300, 0.5)
    sim.call("DELETE", "/__sim/requests")
    ingest.push([f"n{j:06d}.example" for j in range(added)])
    wait_until(f"bench-append holds {entries}", holds(entries), 120, 0.2)
    log_json = request_log(sim)
    writes = [r for r in log_json["requests"] if r["method"] != "GET" and r["status"] != 429]
    append_bytes = sum(r["requestBytes"] for r in writes if r["path"].endswith("/append"))
    all_write_bytes = sum(r["requestBytes"] for r in writes)
    # The full-replace strategy, in the same run on the same simulator: the list's whole content
    # as the operator's client writes a replace body (compact JSON), to a second list.
    final = url_lists(sim)["bench-append"]["applied"]["urls"]
    tok = {"Netskope-Api-Token": V2_TOKEN}

    def v2(method, path, body):
        # The benchmark is a client of the tenant too: it keeps to the tenant's rate limit.
        while True:
            status, payload = sim.call(method, path, body, tok)
            if status != 429:
                return status, payload
            time.sleep(0.25)

    status, payload = v2("POST", "/api/v2/policy/urllist",
                         {"name": "bench-append-replace",
                          "data": {"urls": ["seed.example"], "type": "exact"}})
    if status != 201:
        raise RuntimeError(f"create for the full replace: HTTP {status}: {payload[:300]!r}")
    list_id = json.loads(payload)[0]["id"]
    status, payload = v2("PATCH", f"/api/v2/policy/urllist/{list_id}/replace",
                         {"data": {"urls": final, "type": "exact"}})
    if status != 200:
        raise RuntimeError(f"full replace: HTTP {status}: {payload[:300]!r}")
    replace_bytes = max(r["requestBytes"] for r in request_log(sim)["requests"]
                        if r["path"].endswith("/replace") and r["status"] == 200)
    log(f"append: {added} entries added to a {entries}-entry URL list ({base} before)")
    for r in writes:
        log(f"  operator {r['method']} {r['path']}: {r['requestBytes']} request bytes, status {r['status']}")
    log(f"  operator append: {append_bytes} bytes (all operator writes: {all_write_bytes} bytes), "
        f"{count_429(log_json)} answered 429")
    log(f"  full replace of the same list: {replace_bytes} bytes")
    if append_bytes == 0:  # the operator did not append: the figure would be meaningless
        raise RuntimeError(f"no append reached the tenant; the operator's writes: {writes}")
    # All of the operator's write bytes (an append plus, say, a replace counts both).
    log(f"  operator writes / full replace: {100.0 * all_write_bytes / replace_bytes:.2f}% "
        "(target <= 2%)")
    return {"append_bytes": append_bytes, "replace_bytes": replace_bytes}


def scenario_scale(tenants, configs, indicators, workers):
    log(f"scale: {tenants} tenants x {configs} SharingConfigurations, {indicators} indicators "
        f"each, one tenant-simulator process per tenant")
    for t in range(tenants):
        start_simulator(f"sim-t{t:03d}")
    urls = [simulator_url(f"sim-t{t:03d}") for t in range(tenants)]
    sims = [Http(u) for u in urls]
    # The store holds the indicators before the operator meets the tenants: a cold start of a
    # populated installation. A first operator only ingests them (no tenant exists yet) and stops.
    op, addr = start_operator(None, "scale.db")
    Ingest(addr["ingest"], "scale").push([f"x{i:05d}.scale.example" for i in range(indicators)])
    op.send_signal(signal.SIGTERM)
    op.wait(60)
    docs = []
    for t in range(tenants):
        docs += tenant_objects(f"t{t:03d}", urls[t])
        for c in range(configs):
            docs.append(sharing_object(f"t{t:03d}-c{c}", "scale", f"t{t:03d}",
                                       f"bench-list-{c}"))
    apply_docs(docs)
    t0 = time.monotonic()
    op, addr = start_operator(workers, "scale.db")
    pending = set(range(tenants))

    def all_converged():
        for t in list(pending):
            ls = url_lists(sims[t])
            if all(deployed(ls.get(f"bench-list-{c}")) and
                   len(ls[f"bench-list-{c}"]["applied"]["urls"]) == indicators
                   for c in range(configs)):
                pending.discard(t)
        return not pending

    wait_until("every tenant converged", all_converged, 1800, 1.0)
    elapsed = time.monotonic() - t0
    peak = rss_kib(op.pid, "VmHWM:")
    now = rss_kib(op.pid)
    logs = [request_log(s) for s in sims]
    throttled = sum(count_429(l) for l in logs)
    calls = sum(len(l["requests"]) for l in logs)
    log(f"  cold start -> all {tenants * configs} lists converged: {elapsed:.1f} s")
    log(f"  cte-operator peak resident memory {peak / 1024:.1f} MiB (now {now / 1024:.1f} MiB)")
    log(f"  tenant calls {calls}, answered 429 by the simulators' limiters: {throttled}")
    return {"seconds": elapsed, "peak_kib": peak, "throttled": throttled}


def main():
    global BIN, SRC, WORK, OPERATOR
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build-release/bin")
    ap.add_argument("--scenario", default="all",
                    help="all, or a comma-separated list of latency, idle, append, scale")
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--idle-lists", type=int, default=3)
    ap.add_argument("--idle-interval", type=int, default=10, help="syncInterval, seconds")
    ap.add_argument("--idle-intervals", type=int, default=3)
    ap.add_argument("--entries", type=int, default=300000)
    ap.add_argument("--tenants", type=int, default=100)
    ap.add_argument("--configs", type=int, default=10)
    ap.add_argument("--scale-indicators", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=0, help="--workers of cte-operator (0: default)")
    ap.add_argument("--operator", help="cte-operator binary (default: BIN/cte-operator), to "
                    "measure another build with the same simulators and driver")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    names = {"latency", "idle", "append", "scale"}
    chosen = names if a.scenario == "all" else set(a.scenario.split(","))
    if not chosen <= names:
        ap.error(f"--scenario: unknown {sorted(chosen - names)}; choose from {sorted(names)}")
    SRC = os.getcwd()
    BIN = os.path.abspath(a.bin)
    OPERATOR = os.path.abspath(a.operator) if a.operator else f"{BIN}/cte-operator"
    WORK = tempfile.mkdtemp(prefix="sharing-bench.")
    try:
        start_apiserver()
        apply_docs(common_objects())
        if chosen != {"scale"}:
            op, addr = start_operator(a.workers)
        if "latency" in chosen:
            scenario_latency(addr["ingest"], a.samples)
        if "idle" in chosen:
            scenario_idle(addr["ingest"], a.idle_lists, a.idle_interval, a.idle_intervals)
        if "append" in chosen:
            scenario_append(addr["ingest"], a.entries)
        if chosen == {"scale"}:
            scenario_scale(a.tenants, a.configs, a.scale_indicators, a.workers)
        elif "scale" in chosen:
            # A fresh API server and operator for the scale run.
            for p in reversed(PROCS):
                p.terminate()
            for p in PROCS:
                p.wait(60)
            PROCS.clear()
            start_apiserver()
            apply_docs(common_objects())
            scenario_scale(a.tenants, a.configs, a.scale_indicators, a.workers)
    finally:
        for p in reversed(PROCS):
            if p.poll() is None:
                p.terminate()
        for p in PROCS:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        if a.keep:
            log(f"kept {WORK}")
        else:
            shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
