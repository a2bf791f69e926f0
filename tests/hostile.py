"""Hostile PDFs written as raw bytes (no PDF library: they are what libraries choke on), and a way to
run the CLI on them with its time and peak memory measured.

* :func:`page_tree_loop`: a /Pages node whose kid is a /Pages node pointing back to its parent.
* :func:`deep_arrays`: 200,000 arrays nested in one another, reachable from the first page.
* :func:`attachment_bomb`: an embedded file whose 4 MB stream inflates to 4 GiB of zeros.
* :func:`attachment_swarm`: a dozen embedded files of 48 MiB each (each under a per-file cap).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

DOCGEN = Path(sys.executable).with_name("docgen")
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"


def pdf(objects: dict[int, bytes], root: int = 1) -> bytes:
    """A PDF with the given objects (number -> body) and a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    size = max(objects) + 1
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        out += b"%010d 00000 n \n" % offsets[number] if number in offsets else b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, root, xref)
    return bytes(out)


def page_tree_loop() -> bytes:
    return pdf({1: b"<< /Type /Catalog /Pages 2 0 R >>",
                2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                3: b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>"})


def deep_arrays(depth: int = 200_000) -> bytes:
    return pdf({1: b"<< /Type /Catalog /Pages 2 0 R >>",
                2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots 4 0 R >>",
                4: b"[" * depth + b"]" * depth})


def zeros_deflated(mib: int) -> bytes:
    """zlib data that inflates to ``mib`` MiB of zeros, made without compressing them: after a full
    flush a deflate stream starts afresh, so every MiB of zeros compresses to the same bytes."""
    chunk = bytes(1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    assert block == deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    adler = (((mib << 20) % 65521) << 16) | 1  # Adler-32 of that many zeros
    return b"\x78\xda" + block * mib + deflate.flush() + adler.to_bytes(4, "big")


def _with_attachments(count: int, mib: int) -> bytes:
    data = zeros_deflated(mib)
    names = b" ".join(b"(file-%02d.json) %d 0 R" % (i, 10 + i) for i in range(count))
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [" + names + b"] >> >> >>",
               2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               3: PAGE,
               4: b"<< /Type /EmbeddedFile /Filter /FlateDecode /Length %d >>\nstream\n" % len(data)
               + data + b"\nendstream"}
    for i in range(count):
        objects[10 + i] = b"<< /Type /Filespec /F (file-%02d.json) /UF (file-%02d.json) /EF << /F 4 0 R >> >>" % (i, i)
    return pdf(objects)


def attachment_bomb() -> bytes:
    return _with_attachments(1, 4096)


def attachment_swarm() -> bytes:
    return _with_attachments(12, 48)


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float


# A small Python process forks the command and waits for it. On Linux a child's resident peak
# (ru_maxrss) includes the image it was forked from, kept across exec, so forking the command straight
# from pytest (hundreds of MB late in a run) would report pytest's size; forked from this launcher,
# the floor is the launcher's ~10 MB. It writes "exit-code peak-KiB" to the file named first.
_LAUNCHER = """
import os, resource, sys
report, limit = sys.argv[1], int(sys.argv[2])
pid = os.fork()
if pid == 0:
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        os.execvpe(sys.argv[3], sys.argv[3:], os.environ)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(report, "w") as out:
    out.write("%d %d" % (os.waitstatus_to_exitcode(status), usage.ru_maxrss))
"""


def run_measured(command: list[str], *, timeout: float = 120, address_space_gb: float | None = 3,
                 env: dict[str, str] | None = None) -> Run:
    """``command`` in a process of its own: its exit code, output, wall time and peak resident memory
    (its own, see ``_LAUNCHER``). Its address space is capped when ``address_space_gb`` is given (a
    safety net: a bomb must not take the test machine down); one that runs past ``timeout`` is killed
    with its launcher: a hang."""
    limit = int(address_space_gb * (1 << 30)) if address_space_gb else 0
    base = Path(os.environ.get("TMPDIR", "/tmp")) / f"docgen-hostile-{os.getpid()}-{time.monotonic_ns()}"
    report = Path(f"{base}.report")
    try:
        with open(f"{base}.out", "w+b") as out, open(f"{base}.err", "w+b") as err:
            start = time.monotonic()
            launcher = subprocess.Popen([sys.executable, "-c", _LAUNCHER, str(report), str(limit), *command],
                                        stdout=out, stderr=err, env=env, start_new_session=True)
            try:
                launcher.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(launcher.pid, signal.SIGKILL)
                launcher.wait()
                raise AssertionError(f"{' '.join(command)} still running after {timeout} s") from None
            seconds = time.monotonic() - start
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
        code, peak_kib = map(int, report.read_text().split())
    finally:
        for suffix in (".out", ".err", ".report"):
            Path(f"{base}{suffix}").unlink(missing_ok=True)
    return Run(code, stdout, stderr, seconds, peak_kib / 1024)


def run_bounded(*args, timeout: float = 120, address_space_gb: float = 3) -> Run:
    """``docgen ARGS``, measured by :func:`run_measured`."""
    return run_measured([str(DOCGEN), *map(str, args)], timeout=timeout, address_space_gb=address_space_gb)
