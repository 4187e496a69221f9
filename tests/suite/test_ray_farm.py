"""`rig suite run --ray ADDRESS` on a real Ray cluster on this machine (``ray start``),
through the real CLI: the same rows and summary as local processes, resume, and a worker
or a whole node killed mid-trial counted as an infra error and retried, never as an agent
failure."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from hostproc.ports import free_port
from rig.config import parse_config
from rig.errors import ConfigInvalid, RigError

ROOT = Path(__file__).resolve().parents[2]
ADD_CONTACT = ROOT / "tests" / "mcp" / "fixtures" / "add-contact"
CRASH_ONCE = Path(__file__).parent / "fixtures" / "crash-once"
PHONES_DIE = Path(__file__).parent / "fixtures" / "phones-die-on-launch"
RAY = Path(sys.executable).with_name("ray")
cluster_test = [pytest.mark.integration, pytest.mark.slow]


def rig(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rig.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


def rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


def summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


NODE_PORTS = (
    "--node-manager-port",
    "--object-manager-port",
    "--dashboard-agent-listen-port",
    "--dashboard-agent-grpc-port",
    "--runtime-env-agent-port",
    "--metrics-export-port",
)


def start_node(
    args: list[str], log_path: Path, env: dict[str, str] | None = None
) -> subprocess.Popen:
    """`ray start ... --block` on free ports, in a session of its own so that stopping it
    (or killing it, as a node dies) touches only its processes; waits until it is up."""
    cmd = [str(RAY), "start", "--block", "--disable-usage-stats", *args]
    cmd += [x for flag in NODE_PORTS for x in (flag, str(free_port()))]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=log_path.parent,
            env=env,
        )
    deadline = time.monotonic() + 90
    while "Ray runtime started" not in log_path.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_node(proc)
            pytest.fail(f"{' '.join(cmd)} failed:\n{log_path.read_text()}")
        time.sleep(0.25)
    return proc


def stop_node(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # --block drains and stops what it started
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # leftovers of our own session only


class Cluster:
    def __init__(self, address: str, temp_dir: Path) -> None:
        self.address, self.temp_dir = address, temp_dir
        self.nodes: list[subprocess.Popen] = []

    def add_node(self, cpus: int, env: dict[str, str] | None = None) -> subprocess.Popen:
        """Another node joining the head, as on a second machine (``env``: its processes')."""
        log = self.temp_dir / f"node-{len(self.nodes)}.log"
        proc = start_node(["--address", self.address, "--num-cpus", str(cpus)], log, env)
        self.nodes.append(proc)
        return proc

    def remove_node(self, proc: subprocess.Popen | None) -> None:
        """Stop a node a test added (later tests see only the head and their own nodes)."""
        if proc is not None and proc in self.nodes:
            self.nodes.remove(proc)
            stop_node(proc)

    def worker_pids(self) -> set[int]:
        """Pids of the processes this cluster started as Ray workers (from their log names)."""
        logs = self.temp_dir.glob("session_*/logs/python-core-worker-*.log")
        return {int(p.stem.rsplit("_", 1)[1]) for p in logs}


@pytest.fixture(scope="module")
def cluster(private_adb) -> Cluster:
    """A head node on this machine with 2 CPUs, started as a user would (`ray start
    --head`). Its workers inherit this process's environment, so episodes use the private
    adb server."""
    # Token authentication, as Ray clusters have by default, with a token of our own (not
    # ~/.ray/auth_token); the cluster and every `rig` driver below read it from the env.
    mp = pytest.MonkeyPatch()
    mp.setenv("RAY_AUTH_MODE", "token")
    mp.setenv("RAY_AUTH_TOKEN", secrets.token_hex(32))
    mp.setenv("RAY_USAGE_STATS_ENABLED", "0")
    if not RAY.exists():
        pytest.fail(f"{RAY} missing: the dev extra installs ray (pip install -e '.[dev]')")
    temp_dir = Path(tempfile.mkdtemp(prefix="clawrig-ray-", dir="/tmp"))  # short: unix sockets
    port = free_port()
    head = [
        "--head", "--port", str(port), "--num-cpus", "2", "--include-dashboard", "false",
        "--temp-dir", str(temp_dir),
    ]  # fmt: skip
    proc = start_node(head, temp_dir / "head.log")
    cluster = Cluster(f"127.0.0.1:{port}", temp_dir)
    try:
        yield cluster
    finally:
        for node in cluster.nodes:
            stop_node(node)
        stop_node(proc)
        mp.undo()
        shutil.rmtree(temp_dir, ignore_errors=True)


def one_task_suite(root: Path, fixture: Path) -> Path:
    suite = root / "suite"
    shutil.copytree(fixture, suite / fixture.name)
    return suite


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("farm")


@pytest.fixture(scope="module")
def ray_run(cluster: Cluster, work: Path) -> Path:
    """Two oracle trials of one phone task, as Ray tasks."""
    suite = one_task_suite(work / "ok", ADD_CONTACT)
    out = work / "ray-out"
    res = rig(
        "suite",
        "run",
        str(suite),
        "--trials",
        "2",
        "--ray",
        cluster.address,
        "--out",
        str(out),
        cwd=work,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    return out


@pytest.mark.integration
@pytest.mark.slow
def test_ray_trials_give_what_local_processes_give(ray_run: Path, cluster: Cluster, work: Path):
    local = work / "local-out"
    res = rig(
        "suite",
        "run",
        str(work / "ok" / "suite"),
        "--trials",
        "2",
        "--workers",
        "2",
        "--out",
        str(local),
        cwd=work,
    )
    assert res.returncode == 0, res.stdout + res.stderr

    def comparable(row: dict) -> dict:
        # Timing, the worker, and whether a trial's world was restored from a checkpoint
        # or seeded (which racing workers decide) are how a trial ran, not what it gave.
        how = ("seconds", "worker", "node_id", "setup_s", "world")
        return {k: v for k, v in row.items() if k not in how}

    by_trial = {r["trial"]: r for r in rows(ray_run)}
    assert sorted(by_trial) == [0, 1] and len(rows(ray_run)) == 2
    assert all(
        r["passed"] and r["attempt"] == 1 and not r["infra_error"] for r in by_trial.values()
    )
    assert [comparable(r) for r in sorted(rows(local), key=lambda r: r["trial"])] == [
        comparable(by_trial[0]),
        comparable(by_trial[1]),
    ]
    ray_summary, local_summary = summary(ray_run), summary(local)
    assert ray_summary["passed"] == local_summary["passed"] == 2
    assert ray_summary["pass_at_k"] == local_summary["pass_at_k"]
    assert ray_summary["infra_errors"] == local_summary["infra_errors"] == 0
    # The trials ran in the cluster's worker processes, which wrote the records in place.
    pids = {int(r["worker"].rsplit(":", 1)[1]) for r in by_trial.values()}
    assert pids <= cluster.worker_pids(), (pids, cluster.worker_pids())
    for r in by_trial.values():
        assert (ray_run / r["report"]).is_file()
    assert json.loads((ray_run / "suite.json").read_text())["farm"] == cluster.address
    assert 'failures="0"' in (ray_run / "junit.xml").read_text()


@pytest.mark.integration
@pytest.mark.slow
def test_resume_on_ray_runs_only_what_is_missing(ray_run: Path, cluster: Cluster, work: Path):
    before = {r["trial"]: (ray_run / r["report"]).stat().st_mtime_ns for r in rows(ray_run)}
    assert sorted(before) == [0, 1]
    res = rig(
        "suite",
        "run",
        str(work / "ok" / "suite"),
        "--trials",
        "3",
        "--resume",
        "--ray",
        cluster.address,
        "--out",
        str(ray_run),
        cwd=work,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    lines = rows(ray_run)
    assert len(lines) == 3 and lines[2]["trial"] == 2 and lines[2]["passed"]
    assert sorted(r["trial"] for r in lines[:2]) == [0, 1]  # the first run's lines, untouched
    reports = {
        t: ray_run / "trials" / "mcp-add-contact" / f"trial-{t}" / "report.html" for t in before
    }
    assert {t: p.stat().st_mtime_ns for t, p in reports.items()} == before
    assert summary(ray_run)["passed"] == 3


@pytest.mark.integration
@pytest.mark.slow
def test_worker_killed_mid_trial_is_infra_then_retried(cluster: Cluster, work: Path):
    suite = one_task_suite(work / "crash", CRASH_ONCE)
    out = work / "crash-out"
    res = rig(
        "suite",
        "run",
        str(suite),
        "--ray",
        cluster.address,
        "--retries",
        "0",
        "--out",
        str(out),
        cwd=work,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    marker = suite / CRASH_ONCE.name / "crashed"
    assert int(marker.read_text()) in cluster.worker_pids()  # a Ray worker killed itself
    [row] = rows(out)
    assert row["infra_error"].startswith("ray worker died"), row
    assert row["passed"] is False and not row.get("error")
    first = summary(out)
    assert first["infra_errors"] == 1 and first["trials"] == 0  # not in the denominator
    assert 'type="infra_error"' in (out / "junit.xml").read_text()

    # Resume reruns the infra error (a retry); the rerun passes.
    res = rig(
        "suite",
        "run",
        str(suite),
        "--ray",
        cluster.address,
        "--resume",
        "--out",
        str(out),
        cwd=work,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    lines = rows(out)
    assert [r["attempt"] for r in lines] == [1, 1]
    assert lines[1]["passed"] is True and lines[1]["infra_error"] is None
    again = summary(out)
    assert again["passed"] == 1 and again["infra_errors"] == 0


@pytest.mark.integration
@pytest.mark.slow
def test_every_node_must_see_the_paths(cluster: Cluster, tmp_path: Path):
    from rig.farm import RayFarm

    with RayFarm(cluster.address) as farm:  # this process as a driver, for the probe alone
        assert farm.slots == 2  # the cluster's 2 CPUs / 1 CPU per trial
        farm.check_paths([tmp_path])  # the node sees a file made just now: one filesystem
        with pytest.raises(RigError, match=r"cannot see .*elsewhere"):
            farm.check_paths([tmp_path, tmp_path / "elsewhere"])
    assert not list(tmp_path.glob(".farm-probe-*"))


def test_ray_missing_names_the_extra(monkeypatch):
    from rig.farm import open_farm

    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` sees without the package
    with pytest.raises(RigError, match=r"clawrig\[ray\]"):
        open_farm(None, "auto")
    with open_farm(2, "local") as farm:  # local processes need no ray
        assert farm.slots == 2


def test_bad_ray_address_is_bad_input(tmp_path: Path):
    res = rig(
        "suite",
        "run",
        str(ADD_CONTACT.parent),
        "--ray",
        "not an address",
        "--out",
        str(tmp_path / "o"),
        cwd=tmp_path,
    )
    assert res.returncode == 2 and "--ray" in res.stderr and "HOST:PORT" in res.stderr
    assert "Traceback" not in res.stderr
    with pytest.raises(ConfigInvalid, match=r"suite\.ray: 'nowhere' is not allowed"):
        parse_config({"suite": {"ray": "nowhere"}})
    assert parse_config({"suite": {"ray": "10.0.0.5:6379", "ray_cpus": 2}}).suite.ray_cpus == 2


def test_unreachable_cluster_is_an_infra_error_at_once(tmp_path: Path):
    started = time.monotonic()
    res = rig(
        "suite",
        "run",
        str(ADD_CONTACT.parent),
        "--ray",
        f"127.0.0.1:{free_port()}",
        "--out",
        str(tmp_path / "o"),
        cwd=tmp_path,
    )
    assert res.returncode == 3, res.stdout + res.stderr
    assert "cannot reach the Ray cluster" in res.stderr and "Traceback" not in res.stderr
    assert time.monotonic() - started < 30


@pytest.mark.integration
@pytest.mark.slow
def test_local_processes_survive_a_killed_worker_the_same_way(private_adb, work: Path):
    # The same trial function and loop without Ray: a killed worker breaks the process pool;
    # the trial is an infra error, a fresh pool runs the retry.
    suite = one_task_suite(work / "crash-local", CRASH_ONCE)
    out = work / "crash-local-out"
    res = rig("suite", "run", str(suite), "--retries", "1", "--out", str(out), cwd=work)
    assert res.returncode == 0, res.stdout + res.stderr
    first, second = rows(out)
    assert first["infra_error"].startswith("worker died: BrokenProcessPool"), first
    assert second["passed"] is True and second["attempt"] == 2
    assert summary(out)["passed"] == 1 and summary(out)["infra_errors"] == 0


@pytest.mark.integration
def test_rig_toml_suite_ray_is_honoured(private_adb, tmp_path: Path):
    port = free_port()
    (tmp_path / "rig.toml").write_text(f'[suite]\nray = "127.0.0.1:{port}"\n')
    res = rig("suite", "run", str(ADD_CONTACT.parent), "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert res.returncode == 3 and f"127.0.0.1:{port}" in res.stderr, res.stderr
    assert not (tmp_path / "o" / "results.jsonl").exists()  # refused before any trial
    res = rig("suite", "run", str(ADD_CONTACT.parent), "--ray", "local", "--out",
              str(tmp_path / "o"), "--agent", "noop", cwd=tmp_path)  # fmt: skip
    assert res.returncode == 0, res.stderr  # --ray local overrides the file: local processes
    [row] = rows(tmp_path / "o")
    assert row["passed"] is False and not row["infra_error"]


@pytest.mark.integration
@pytest.mark.slow
def test_node_that_dies_mid_trial_is_infra_and_the_trial_moves_on(cluster: Cluster, work: Path):
    # Trials that need 3 CPUs fit only on a node added for them (the head has 2). That node
    # is killed outright (raylet, workers, all) while the trial runs on it; a replacement
    # joins and the retry runs there.
    doomed = cluster.add_node(cpus=3)
    replacement = None
    suite = one_task_suite(work / "node", ADD_CONTACT)
    out = work / "node-out"
    cmd = [sys.executable, "-m", "rig.cli", "suite", "run", str(suite), "--ray", cluster.address,
           "--ray-cpus", "3", "--retries", "1", "--out", str(out)]  # fmt: skip
    driver = subprocess.Popen(cmd, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        trial = out / "trials" / "mcp-add-contact" / "trial-0"
        deadline = time.monotonic() + 120
        while not (trial.is_dir() and any(trial.iterdir())):
            assert driver.poll() is None and time.monotonic() < deadline, driver.communicate()
            time.sleep(0.1)
        # The node dies mid-trial: its process group and every process it started (a Ray
        # worker outside the group could otherwise finish the trial and report it).
        victims = psutil.Process(doomed.pid).children(recursive=True)
        os.killpg(doomed.pid, signal.SIGKILL)
        for proc in victims:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        doomed.wait(timeout=30)
        replacement = cluster.add_node(cpus=3)
        stdout, stderr = driver.communicate(timeout=240)
    finally:
        if driver.poll() is None:
            driver.kill()
        cluster.remove_node(doomed)
        cluster.remove_node(replacement)
    assert driver.returncode == 0, stdout.decode() + stderr.decode()
    first, second = rows(out)
    # Ray says NodeDiedError, or WorkerCrashedError when it sees the worker go first.
    assert first["infra_error"].startswith(("ray node died", "ray worker died")), first
    assert first["attempt"] == 1 and not first.get("error")
    assert second["passed"] is True and second["attempt"] == 2
    assert summary(out)["passed"] == 1 and summary(out)["infra_errors"] == 0


@pytest.mark.integration
@pytest.mark.slow
def test_a_node_that_fails_its_probe_is_quarantined(cluster: Cluster, work: Path):
    # A second node whose phones report the wrong screen size. Trials reserve 2 CPUs, so
    # the two trials start one on each node; the bad node's probe fails, it is quarantined
    # and its trial runs on the head instead. `rig doctor --farm` shows the same per node.
    from tests.suite.test_farm_health import lying_env

    bad = cluster.add_node(cpus=2, env=lying_env())
    try:
        res = rig("doctor", "--farm", cluster.address, "--android", "sim", cwd=work)
        assert res.returncode == 1, res.stdout + res.stderr
        assert "1/2 nodes passed" in res.stdout, res.stdout
        assert ": android: screen size: screenshot is 1080x2400, wm size 1080x1920" in res.stdout
        assert "5/5" in res.stdout and "3/5" in res.stdout, res.stdout  # the good node, the bad

        suite = one_task_suite(work / "probe", ADD_CONTACT)
        out = work / "probe-out"
        res = rig("suite", "run", str(suite), "--trials", "2", "--ray", cluster.address,
                  "--ray-cpus", "2", "--out", str(out), cwd=work)  # fmt: skip
        assert res.returncode == 0, res.stdout + res.stderr
        lines = rows(out)
        assert sorted(r["trial"] for r in lines) == [0, 1], lines
        assert all(r["passed"] and r["attempt"] == 1 for r in lines), lines
        [entry] = summary(out)["quarantined"]
        assert entry["check"] == "android: screen size", entry
        assert all(r["node_id"] != entry["node_id"] for r in lines)  # nothing ran there
        assert "Quarantined nodes" in (out / "index.html").read_text()
    finally:
        cluster.remove_node(bad)


@pytest.mark.integration
@pytest.mark.slow
def test_an_infra_retry_goes_to_another_node(cluster: Cluster, work: Path):
    # Trials of 4 CPUs fit only on the nodes added here. The first, alone, passes its probe but its
    # phone dies when the trial launches Contacts (it waits for our signal, so that a
    # second, healthy node has joined by then). Both nodes are free when the retry is
    # sent; it goes to the other node, not back to the one it failed on.
    signal_file = work / "phones-die-now"
    env = {**os.environ, "CLAWRIG_TEST_PHONES_DIE": str(signal_file)}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PHONES_DIE), str(ROOT), os.environ.get("PYTHONPATH")) if p
    )
    flaky = cluster.add_node(cpus=4, env=env)
    suite = one_task_suite(work / "retry", ADD_CONTACT)
    out = work / "retry-out"
    cmd = [sys.executable, "-m", "rig.cli", "suite", "run", str(suite), "--ray", cluster.address,
           "--ray-cpus", "4", "--retries", "1", "--out", str(out)]  # fmt: skip
    driver = subprocess.Popen(cmd, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    healthy = None
    try:
        trial = out / "trials" / "mcp-add-contact" / "trial-0"
        deadline = time.monotonic() + 180
        while not (trial.is_dir() and any(trial.iterdir())):  # past the probe, on the flaky node
            assert driver.poll() is None and time.monotonic() < deadline, driver.communicate()
            time.sleep(0.1)
        healthy = cluster.add_node(cpus=4)
        signal_file.write_text("now", encoding="utf-8")
        stdout, stderr = driver.communicate(timeout=240)
    finally:
        if driver.poll() is None:
            driver.kill()
        cluster.remove_node(flaky)
        cluster.remove_node(healthy)
    assert driver.returncode == 0, stdout.decode() + stderr.decode()
    first, second = rows(out)
    assert first["infra_error"] and first["attempt"] == 1 and not first.get("error"), first
    assert second["passed"] is True and second["attempt"] == 2, second
    assert second["node_id"] != first["node_id"]
    assert summary(out)["quarantined"] == []  # the flaky node passed its probe
