"""The real `docgen serve` in a subprocess on 127.0.0.1 and a free port, for the service's tests."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

DOCGEN = Path(sys.executable).with_name("docgen")
AS_OF = "2026-11-24"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def add_key(keys: Path, name: str, *scope: str) -> str:
    args = [str(DOCGEN), "keys", "add", name, "--keys", str(keys)] + (["--scope", ",".join(scope)] if scope else [])
    proc = subprocess.run(args, capture_output=True, text=True, check=True, timeout=60)
    return proc.stdout.strip()


@dataclass
class Server:
    data: Path
    port: int = field(default_factory=free_port)
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> Server:
        self.log = self.data.parent / f"{self.data.name}-server.log"
        handle = self.log.open("ab")
        env = {**os.environ, **self.env}
        env.pop("DOCGEN_AUDIT", None)
        self.proc = subprocess.Popen([str(DOCGEN), "serve", "--data", str(self.data), "--port", str(self.port),
                                      *self.args], stdout=handle, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
        handle.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"docgen serve exited {self.proc.returncode}: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("docgen serve did not start")

    def workers(self) -> set[int]:
        """The pids of the service's pool workers: the children of its forkserver (read from /proc;
        a worker is forked from the forkserver and shows the same command line)."""
        assert self.proc is not None
        parents: dict[int, int] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            parents[int(stat.parent.name)] = int(fields[1])
        servers = {pid for pid, parent in parents.items() if parent == self.proc.pid and _forkserver(pid)}
        return {pid for pid, parent in parents.items() if parent in servers}

    def kill(self) -> None:
        """SIGKILL the service and its workers (its process group): a crash, nothing cleaned up."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # any worker left behind
            except ProcessLookupError:
                pass


def wait_job(client: httpx.Client, job_id: str, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(f"/v1/batches/{job_id}").json()
        if status["status"] in ("done", "failed"):
            return status
        time.sleep(0.2)
    raise AssertionError(f"batch {job_id} not done in {timeout} s")


def records(n: int, plan: dict, prefix: str = "TP-B") -> list[dict]:
    """``n`` complete plans of ``n`` clients, from ``plan``."""
    out = []
    for i in range(n):
        record = json.loads(json.dumps(plan))
        record["id"] = f"{prefix}{i:04d}"
        record["client"]["id"] = f"C-{prefix}{i:04d}"
        out.append(record)
    return out


def _forkserver(pid: int) -> bool:
    try:
        return b"forkserver import main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def cpu_seconds(pid: int) -> float:
    """The user and system CPU time a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
