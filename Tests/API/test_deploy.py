"""`Tests/Stack/stack.sh deploy <Name>` (what `make deploy FUNCTION=<Name>` runs after building): under a steady
load, a function's processes are replaced without one failed request, and every other function keeps its
processes. The deploys install the binaries this stack already runs (`--binary`), so nothing is compiled."""
import os
import pathlib
import subprocess
import threading
import time

import requests

BASE = os.environ.get("SIGNALBRIDGE_BASE_URL", "http://127.0.0.1:8080")


def state():
    return pathlib.Path(os.environ["SIGNALBRIDGE_STATE_DIR"])


def pids(name):
    """The pids of a function's generation in service (run/<name>.pid is a symlink to it)."""
    path = state() / "run" / f"{name}.pid"
    return sorted(int(p) for p in path.read_text().split()) if path.exists() else []


def all_pids():
    names = [p.name[:-4] for p in (state() / "run").glob("*.pid")]
    return {n: pids(n) for n in names if n not in ("nginx", "fake-telegram", "local-cron")}


def alive(pid):
    try:
        return not open(f"/proc/{pid}/stat").read().split(") ")[1].startswith("Z")
    except FileNotFoundError:
        return False


def stack(*args, timeout=300):
    return subprocess.run([os.environ["SIGNALBRIDGE_STACK"], *args], capture_output=True, text=True, timeout=timeout)


def deploy(name):
    started = time.monotonic()
    out = stack("deploy", name, "--binary", os.environ["SIGNALBRIDGE_BIN_DIR"] + "/" + name)
    assert out.returncode == 0, out.stderr
    return started, time.monotonic(), out.stderr


class Load:
    """Worker threads, each with its own keep-alive session, sending GETs in turn until stopped. Every answer
    other than a 200, and every connection error or timeout, is a failure."""

    def __init__(self, targets, workers=4):
        self.targets, self.workers = targets, workers
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.results = []  # (finished at, path, status or error text)
        self.threads = [threading.Thread(target=self.work, args=(i,), daemon=True) for i in range(workers)]

    def work(self, index):
        session = requests.Session()
        i = index
        while not self.stopping.is_set():
            path, token = self.targets[i % len(self.targets)]
            i += 1
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            try:
                outcome = session.get(BASE + path, headers=headers, timeout=10).status_code
            except requests.RequestException as e:
                outcome = f"{type(e).__name__}: {e}"
            with self.lock:
                self.results.append((time.monotonic(), path, outcome))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=15)

    def between(self, start, end):
        with self.lock:
            return [r for r in self.results if start <= r[0] <= end]

    def failures(self):
        with self.lock:
            return [r for r in self.results if r[2] != 200]


def test_deploy_replaces_a_functions_processes_without_a_failed_request(make_user):
    user = make_user("deploy")
    before = all_pids()
    assert before["health"] and before["activity"], before
    with Load([("/v1/health", None), ("/v1/signals?limit=1", user.access)]) as load:
        time.sleep(2)
        health = deploy("Health")
        time.sleep(1)
        activity = deploy("Activity")
        time.sleep(2)
    after = all_pids()

    failures = load.failures()
    assert not failures, f"{len(failures)} failed of {len(load.results)}: {failures[:10]}"
    for name, (start, end, log) in {"health": health, "activity": activity}.items():
        during = load.between(start, end)
        assert len(during) > 0, f"no request completed while {name} was deployed"
        print(f"deploy {name}: {end - start:.2f} s, {len(during)} requests completed meanwhile, all 200; {log.strip()}")
    print(f"load: {len(load.results)} requests in total, 0 failed")

    # New processes, as many as before, running the installed binary; the old ones are gone.
    for name, binary in (("health", "Health"), ("activity", "Activity")):
        assert len(after[name]) == len(before[name])
        assert not set(after[name]) & set(before[name]), (name, before[name], after[name])
        assert not any(alive(p) for p in before[name])
        for pid in after[name]:
            exe = os.readlink(f"/proc/{pid}/exe")
            assert exe == os.path.realpath(state() / "bin" / binary), exe
    # Every other function kept its processes.
    for name in before:
        if name not in ("health", "activity"):
            assert after.get(name) == before[name], (name, before[name], after.get(name))
    # Only the generations in service remain.
    generations = sorted(p.name for p in (state() / "run" / "gen").glob("*.pid"))
    assert generations == sorted(os.readlink(state() / "run" / f"{n}.pid").split("/")[-1] for n in after), generations


def test_deploy_lets_requests_in_progress_and_queued_finish():
    """Health's requests held 0.5 s each (a latency fault on the simulator's ping): at the switch the old processes
    are busy and as many requests again wait in their socket's queue. The deploy lets all of them finish."""
    sim = os.environ["SIM_BINANCE_URL"]
    fault = {"kind": "latency", "method": "GET", "path": "/api/v3/ping", "latency_ms": 500, "count": 1000}
    assert requests.post(sim + "/_sim/faults", json=fault, timeout=5).status_code == 200
    try:
        before = pids("health")
        with Load([("/v1/health", None)], workers=2 * len(before)) as load:
            time.sleep(1.5)
            start, end, log = deploy("Health")
            time.sleep(1)
    finally:
        requests.delete(sim + "/_sim/faults", timeout=5)
    failures = load.failures()
    assert not failures, f"{len(failures)} failed of {len(load.results)}: {failures[:10]}"
    assert end - start > 0.5, f"the deploy did not wait for the requests in progress ({end - start:.2f} s)"
    assert not set(pids("health")) & set(before)
    print(f"deploy health with slow requests: {end - start:.2f} s, {len(load.results)} requests, all 200")


def test_deploying_a_scheduled_function_only_installs_it():
    before = all_pids()
    link = state() / "bin" / "Reconcile"
    out = stack("deploy", "Reconcile", "--binary", os.environ["SIGNALBRIDGE_BIN_DIR"] + "/Reconcile")
    assert out.returncode == 0, out.stderr
    assert link.is_symlink() and os.readlink(link).startswith("Reconcile-")
    assert (state() / "bin" / os.readlink(link)).read_bytes() == \
        pathlib.Path(os.environ["SIGNALBRIDGE_BIN_DIR"], "Reconcile").read_bytes()
    assert all_pids() == before


def test_deploy_refuses_what_is_not_a_function():
    for name in ("CLI", "NoSuchFunction", "../Health"):
        out = stack("deploy", name, "--binary", "/bin/true")
        assert out.returncode != 0 and "not a function" in out.stderr, (name, out.stderr)
