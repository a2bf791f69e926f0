"""`docgen serve` (issue #16): the real server in a subprocess on 127.0.0.1, called with httpx. The
same verdicts (JSON) and bytes as the command line, keys, limits, locks, batches that survive a kill,
signed webhooks, and a log without bodies, client text or keys."""
from __future__ import annotations

import contextlib
import copy
import hashlib
import hmac
import io
import json
import os
import stat
import subprocess
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

import builders
from serve_helpers import AS_OF, DOCGEN, Server, add_key, cpu_seconds, records, wait_job

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
HOSTILE_NAME = "<script>window.pwned=1</script>Zoë"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("serve") / "data"
    data.mkdir(mode=0o700)
    keys = data / "keys.json"
    server = Server(data, args=("--workers", "2", "--max-body", "1", "--timeout", "60",
                                "--callback-host", "127.0.0.1"))  # the tests' webhook receiver
    server.full = add_key(keys, "ehr")
    server.reader = add_key(keys, "reader", "check")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.full}"}, timeout=120) as c:
        yield c


def cli(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(DOCGEN), *map(str, args)], capture_output=True, cwd=cwd, timeout=120, check=False)


# --- keys and auth ------------------------------------------------------------------------------
def test_a_key_is_printed_once_and_only_its_salted_hash_is_stored_owner_only(tmp_path):
    keys = tmp_path / "keys.json"
    first = add_key(keys, "ehr")
    second = add_key(keys, "agency", "check", "render")
    assert first != second and first.startswith("dgk_") and len(first) > 40
    text = keys.read_text()
    assert first not in text and second not in text
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    listed = subprocess.run([str(DOCGEN), "keys", "list", "--keys", str(keys)], capture_output=True, text=True,
                            check=True).stdout
    assert "ehr  check,render,batch,packet,fhir" in listed and "agency  check,render  created" in listed
    assert first not in listed
    again = subprocess.run([str(DOCGEN), "keys", "add", "ehr", "--keys", str(keys)], capture_output=True, text=True,
                           check=False)
    assert again.returncode == 2
    assert again.stderr.strip() == "docgen keys: NAME: a key named ehr exists; revoke it first"
    scope = subprocess.run([str(DOCGEN), "keys", "add", "x", "--keys", str(keys), "--scope", "admin"],
                           capture_output=True, text=True, check=False)
    assert scope.returncode == 2 and "--scope: use one or more of check,render,batch,packet,fhir" in scope.stderr


def test_no_auth_is_refused_unless_the_host_is_loopback(tmp_path):
    everyone = "0.0.0.0"  # noqa: S104 - what is refused
    proc = subprocess.run([str(DOCGEN), "serve", "--data", str(tmp_path / "d"), "--no-auth", "--host", everyone],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("docgen serve: --no-auth: anyone who can connect would be served")
    empty = subprocess.run([str(DOCGEN), "serve", "--data", str(tmp_path / "d")], capture_output=True, text=True,
                           timeout=60, check=False)
    assert empty.returncode == 2 and "no keys in" in empty.stderr and "Traceback" not in empty.stderr


def test_every_route_but_healthz_needs_a_key_in_scope(server):
    health = httpx.get(f"{server.url}/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok", "version": health.json()["version"]}
    plan = json.dumps(builders.plan_dict(), default=str)
    for method, path in (("POST", "/v1/check"), ("POST", "/v1/render"), ("POST", "/v1/batches"),
                         ("GET", "/v1/batches/" + "0" * 32), ("GET", "/openapi.json"),
                         ("POST", "/v1/packets?client=C&purpose=claim&recipient=R")):
        bare = httpx.request(method, server.url + path, content=plan)
        assert bare.status_code == 401, path
        assert bare.json() == {"error": "a valid key is needed: Authorization: Bearer KEY"}
        assert bare.headers["www-authenticate"] == "Bearer"
        wrong = httpx.request(method, server.url + path, content=plan, headers={"Authorization": "Bearer dgk_nope"})
        assert wrong.status_code == 401
    reader = {"Authorization": f"Bearer {server.reader}"}
    assert httpx.post(f"{server.url}/v1/check?as_of={AS_OF}", content=plan, headers=reader).status_code == 200
    denied = httpx.post(f"{server.url}/v1/render?as_of={AS_OF}", content=plan, headers=reader)
    assert denied.status_code == 403 and denied.json() == {"error": "this key may not render (its scopes: check)"}


def test_a_revoked_key_is_refused_at_once(server):
    key = add_key(server.data / "keys.json", "temporary", "check")
    auth = {"Authorization": f"Bearer {key}"}
    body = json.dumps(builders.plan_dict(), default=str)
    assert httpx.post(f"{server.url}/v1/check", content=body, headers=auth).status_code == 200
    subprocess.run([str(DOCGEN), "keys", "revoke", "temporary", "--keys", str(server.data / "keys.json")],
                   check=True, capture_output=True)
    assert httpx.post(f"{server.url}/v1/check", content=body, headers=auth).status_code == 401


# --- parity with the command line ---------------------------------------------------------------
def _corpus() -> list[dict]:
    from docgen.load import parse_yaml

    out = []
    for name in ("plans/plan-adult-mdd-complete.yaml", "plans/plan-elevated-risk-no-safety-plan-incomplete.yaml",
                 "notes/note-invalid-schema.yaml", "notes/note-tx-unknown-goal-soap-incomplete.yaml",
                 "plans/plan-tx-medicaid-sud-part2-complete.json"):
        text = (FIXTURES / name).read_text(encoding="utf-8")
        out.append(json.loads(json.dumps(parse_yaml(text), default=str)))
    return out


def test_check_answers_exactly_what_docgen_check_format_json_prints(server, client, tmp_path):
    body = json.dumps(_corpus(), ensure_ascii=False).encode()
    (tmp_path / "request.json").write_bytes(body)
    proc = cli("check", "request.json", "--format", "json", "--as-of", AS_OF, "--audit", server.data / "audit.sqlite",
               cwd=tmp_path)
    answer = client.post(f"/v1/check?as_of={AS_OF}", content=body)
    assert answer.status_code == 200
    assert answer.json() == json.loads(proc.stdout)
    assert {r["status"] for r in answer.json()["records"]} == {"complete", "incomplete", "invalid"}
    # one record as an object: the CLI's answer for a file holding that object
    one = json.dumps(_corpus()[1]).encode()
    (tmp_path / "request.json").write_bytes(one)
    proc = cli("check", "request.json", "--format", "json", "--as-of", AS_OF, cwd=tmp_path)
    assert client.post(f"/v1/check?as_of={AS_OF}", content=one).json() == json.loads(proc.stdout)


@pytest.mark.slow
def test_render_answers_the_bytes_docgen_render_writes(client, tmp_path):
    plan = builders.plan_dict()
    plan["id"], plan["client"]["id"] = "TP-PARITY", "C-PARITY"
    body = json.dumps(plan, default=str).encode()
    (tmp_path / "request.json").write_bytes(body)
    proc = cli("render", "request.json", "--out", "out", "--as-of", AS_OF, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    pdf = client.post(f"/v1/render?format=pdf&as_of={AS_OF}", content=body)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["x-docgen-status"] == "final"
    assert 'filename="TP-PARITY.pdf"' in pdf.headers["content-disposition"]
    assert pdf.content == (tmp_path / "out" / "TP-PARITY.pdf").read_bytes()
    docx = client.post(f"/v1/render?format=docx&as_of={AS_OF}", content=body)
    assert docx.content == (tmp_path / "out" / "TP-PARITY.docx").read_bytes()
    both = client.post(f"/v1/render?format=zip&as_of={AS_OF}", content=body)
    with zipfile.ZipFile(io.BytesIO(both.content)) as archive:
        assert archive.read("document.pdf") == pdf.content and archive.read("document.docx") == docx.content
    assert client.post(f"/v1/render?format=zip&as_of={AS_OF}", content=body).content == both.content


def test_an_incomplete_record_is_refused_with_its_findings_or_rendered_as_a_draft(client):
    plan = builders.plan_dict()
    plan["id"] = "TP-REFUSED"
    del plan["consents"]
    body = json.dumps(plan, default=str)
    refused = client.post(f"/v1/render?as_of={AS_OF}", content=body)
    assert refused.status_code == 422
    answer = refused.json()
    assert answer["status"] == "refused" and answer["error"].startswith("record TP-REFUSED: refused: ")
    assert "consent-treatment" in {f["rule"] for f in answer["findings"]}
    draft = client.post(f"/v1/render?as_of={AS_OF}&allow_draft=true", content=body)
    assert draft.status_code == 200 and draft.headers["x-docgen-status"] == "draft"
    assert draft.content.startswith(b"%PDF")
    invalid = client.post(f"/v1/render?as_of={AS_OF}", content=json.dumps({"kind": "treatment_plan", "id": "TP-X"}))
    assert invalid.status_code == 422 and invalid.json()["status"] == "invalid" and invalid.json()["findings"]


def test_a_final_render_locks_and_other_content_is_409_with_the_lock(server, client):
    plan = builders.plan_dict()
    plan["id"] = "TP-LOCKED"
    assert client.post(f"/v1/render?as_of={AS_OF}", content=json.dumps(plan, default=str)).status_code == 200
    again = client.post(f"/v1/render?as_of={AS_OF}", content=json.dumps(plan, default=str))
    assert again.status_code == 200, "the same content renders again"
    plan["presenting_concerns"] = "Changed after it was signed."
    locked = client.post(f"/v1/render?as_of={AS_OF}", content=json.dumps(plan, default=str))
    assert locked.status_code == 409
    answer = locked.json()
    assert answer["status"] == "locked" and answer["error"].startswith("record TP-LOCKED: locked: ")
    assert answer["lock"]["record_id"] == "TP-LOCKED" and len(answer["lock"]["sha256"]) == 64
    # the service's trail holds the lock, as render's does; check consults it
    from docgen import api

    assert [lock["record_id"] for lock in api.locks(server.data, record="TP-LOCKED")] == ["TP-LOCKED"]
    assert api.verify_trail(server.data).intact, "workers keep the trail open: its chain stays whole"
    checked = client.post(f"/v1/check?as_of={AS_OF}", content=json.dumps(plan, default=str)).json()
    assert "locked" in {f["rule"] for f in checked["records"][0]["findings"]}


# --- bad input: one line, the right status, never a 500 ------------------------------------------
@pytest.mark.parametrize(("path", "body", "status", "error"), [
    ("/v1/check", b'{"id": "TP-1", ', 400, "request body: line 1 column 16: broken JSON: Expecting property name"),
    ("/v1/check", b"", 400, "request body: empty body: send a JSON record"),
    ("/v1/check", b"\xff\xfe{}", 400, "request body: not UTF-8 text (byte 0)"),
    ("/v1/render", b"[1, 2]", 400, "request body: render takes one record (a JSON object)"),
    ("/v1/render", b'{"a": NaN}', 400, "request body: NaN is not a valid JSON number"),
    ("/v1/check?as_of=2026-13-45", b"{}", 400, "as_of: Input should be a valid date"),
    ("/v1/check?profile=../../etc/x", b"{}", 400, "profile: unknown profile"),
    ("/v1/render?format=exe", b"{}", 400, "format: String should match pattern"),
    ("/v1/batches", b"[]", 400, "request body: a JSON array of records, not empty"),
    ("/v1/batches", b"[{", 400, "request body: line 1 column 3: broken JSON"),
    ("/v1/batches?callback_url=file:///etc/passwd", b"[{}]", 400, "callback_url: an http or https URL"),
    # a key holder must not make the service call what only its own host can reach (cloud metadata,
    # loopback services, the private network): refused unless --callback-host allows the host
    ("/v1/batches?callback_url=http://169.254.169.254/latest/meta-data/", b"[{}]", 400,
     "callback_url: 169.254.169.254 is not a public address"),
    ("/v1/batches?callback_url=http://localhost:6379/", b"[{}]", 400,
     "callback_url: localhost is not a public address"),
    ("/v1/batches?callback_url=http://10.0.0.7/hook", b"[{}]", 400, "callback_url: 10.0.0.7 is not a public address"),
    ("/v1/batches?callback_url=http://[::1]:8080/", b"[{}]", 400, "callback_url: ::1 is not a public address"),
    ("/v1/packets?client=C&purpose=claim&recipient=R", b"{}", 400, "request body: a packet takes a JSON array"),
    ("/v1/fhir/import", b" \n", 400, "request body: empty body: send a FHIR Bundle or NDJSON"),
    ("/v1/fhir/import", b"\xff\xfe{}", 400, "request body: not UTF-8 text (byte 0)"),
])
def test_bad_input_is_one_line_with_its_status(client, path, body, status, error):
    answer = client.post(path, content=body)
    assert answer.status_code == status, answer.text
    message = answer.json()["error"]
    assert message.startswith(error) and "\n" not in message and "Traceback" not in answer.text


def test_a_record_naming_a_file_of_the_server_is_refused(client):
    plan = builders.plan_dict()
    plan["signatures"][0]["image"] = "/etc/hostname.png"
    answer = client.post(f"/v1/render?as_of={AS_OF}", content=json.dumps(plan, default=str))
    assert answer.status_code == 422 and "signature image is a file of the server" in answer.json()["error"]
    plan = builders.plan_dict()
    plan["payer"]["profile"] = "/etc/passwd"
    answer = client.post(f"/v1/render?as_of={AS_OF}", content=json.dumps(plan, default=str))
    assert answer.status_code == 422
    assert answer.json()["error"].endswith("name a built-in profile over HTTP, not a file")


def test_a_body_over_the_limit_is_413_declared_or_streamed(client):
    big = b"[" + b" " * (1024 * 1024 + 10) + b"]"
    declared = client.post("/v1/check", content=big)
    assert declared.status_code == 413 and declared.json() == {"error": "request body larger than 1048576 bytes"}

    def chunks():
        for _ in range(20):
            yield b" " * (64 * 1024)

    streamed = client.post("/v1/check", content=chunks())  # no Content-Length: chunked
    assert streamed.status_code == 413 and streamed.json()["error"] == "request body larger than 1048576 bytes"


def _big_plan(goals: int) -> dict:
    """A complete plan with ``goals`` goals: about 0.45 ms of CPU per goal for both formats."""
    big = builders.plan_dict()
    big["id"] = "TP-BIG"
    goal = big["goals"][0]
    big["goals"] = []
    for i in range(goals):
        more = copy.deepcopy(goal)
        more["id"] = f"G-{i}"
        for j, objective in enumerate(more["objectives"]):
            objective["id"] = f"O-{i}-{j}"
        big["goals"].append(more)
    return big


def _gone(server: Server, pids: set[int], within: float = 20) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not pids & server.workers():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow
def test_the_time_limit_counts_the_work_not_the_queue(tmp_path):
    """A request over the limit gets 503 and its worker is replaced (an interrupted process may hold
    half-updated caches); 60 small requests queued on one worker all get 200, though the last waits
    longer than the limit. The limit (1 s) is 25 times a small render, so a slow machine does not fail
    them; the big plan (about 3.6 s of CPU) is over it with room on a fast one."""
    data = tmp_path / "data"
    data.mkdir()
    key = add_key(data / "keys.json", "ehr")
    server = Server(data, args=("--workers", "1", "--timeout", "1")).start()
    try:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=120,
                          limits=httpx.Limits(max_connections=60)) as client:
            before = server.workers()
            assert len(before) == 1
            slow = client.post(f"/v1/render?format=zip&as_of={AS_OF}", content=json.dumps(_big_plan(8000), default=str))
            assert slow.status_code == 503, slow.text
            assert slow.json() == {"error": "the request took longer than the time limit (1 s)"}
            assert _gone(server, before), "the worker the time limit stopped is replaced"
            # nothing of the request that ran out of time was kept: its record was not locked (the same
            # id with other content renders final; it used to get 409, locked by a request that failed)
            body = json.dumps(_big_plan(100), default=str)  # about 40 ms of CPU: 60 of them, 2.5 s
            again = client.post(f"/v1/render?format=zip&as_of={AS_OF}", content=body)
            assert again.status_code == 200, again.text
            latencies: list[float] = []

            def one() -> int:
                started = time.perf_counter()
                status = client.post(f"/v1/render?format=zip&as_of={AS_OF}", content=body).status_code
                latencies.append(time.perf_counter() - started)
                return status

            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(60) as pool:
                statuses = list(pool.map(lambda _: one(), range(60)))
            assert statuses == [200] * 60
            assert max(latencies) > 1, "queued longer than the limit, and still served"
    finally:
        server.stop()


def test_a_time_limit_a_library_swallowed_still_answers_503_and_takes_no_lock(monkeypatch):
    """reportlab has 161 bare ``except:`` clauses: the timer's exception can be caught there and turned
    into another error (the request then said 422 'failed') or ignored (the work carries on). Once the
    timer has gone off, the answer is 503 whatever the work returned, the worker is replaced, and the
    work can no longer lock a record."""
    from docgen.serve import work

    locked: list[object] = []

    class Trail:
        def lock(self, lock):
            locked.append(lock)
            return lock

    def swallowing(*_args):
        with contextlib.suppress(BaseException):  # as a library's bare except does
            time.sleep(5)  # interrupted by the timer
        work.Committing(Trail()).lock("a lock")
        return work.Reply(422, {"error": "record TP-1: failed: something else"})

    monkeypatch.setattr(work, "render", swallowing)
    started = time.monotonic()
    reply = work.timed("render", 0.1)
    assert time.monotonic() - started < 2
    assert (reply.status, reply.body, reply.retire) == (
        503, {"error": "the request took longer than the time limit (0.1 s)"}, True)
    assert locked == []

    def committed(*_args):
        work.Committing(Trail()).lock("a lock")
        time.sleep(0.3)  # past the limit, after the lock: it runs to its end
        return work.Reply(200, {"status": "final"})

    monkeypatch.setattr(work, "render", committed)
    reply = work.timed("render", 0.1)
    assert (reply.status, reply.retire, locked) == (200, False, ["a lock"])


@pytest.mark.slow
def test_a_worker_killed_is_replaced_and_the_service_keeps_answering(tmp_path):
    """A worker that dies (the kernel's OOM killer, a crash in a C library) used to break the pool for
    good: every later request got 500. The request it was working on gets 503 (try again), the worker
    is replaced, and the next requests are served; a worker killed while idle costs no request."""
    import signal

    data = tmp_path / "data"
    data.mkdir()
    key = add_key(data / "keys.json", "ehr")
    server = Server(data, args=("--workers", "1", "--timeout", "60")).start()
    try:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=120) as client:
            body = json.dumps(builders.plan_dict(), default=str)
            assert client.post(f"/v1/render?as_of={AS_OF}", content=body).status_code == 200
            idle = server.workers()
            for pid in idle:
                os.kill(pid, signal.SIGKILL)
            assert _gone(server, idle)
            assert [client.post(f"/v1/render?as_of={AS_OF}", content=body).status_code for _ in range(3)] == [200] * 3
            # killed while working on a request
            [busy] = server.workers()
            spent = cpu_seconds(busy)
            answer: list[httpx.Response] = []
            big = json.dumps(_big_plan(8000), default=str)  # about 3.6 s of CPU
            worker = threading.Thread(target=lambda: answer.append(client.post(
                f"/v1/render?format=zip&as_of={AS_OF}", content=big)))
            worker.start()
            deadline = time.monotonic() + 60
            while cpu_seconds(busy) - spent < 0.3 and time.monotonic() < deadline:
                time.sleep(0.01)  # killed once it has worked on the request for 0.3 s
            os.kill(busy, signal.SIGKILL)
            worker.join(60)
            assert answer[0].status_code == 503
            assert answer[0].json() == {"error": "the worker stopped while working on this request: try again"}
            assert [client.post(f"/v1/render?as_of={AS_OF}", content=body).status_code for _ in range(3)] == [200] * 3
        assert "BrokenProcessPool" not in server.log.read_text()
    finally:
        server.stop()


def test_a_worker_starts_when_the_icd10_table_cannot_be_loaded(monkeypatch):
    """Loading the table at start-up must not keep a worker from starting (the pool would be broken at
    every start, and the service would not start at all): a request that needs it says what is wrong."""
    import docgen.batch
    from docgen.check import icd10
    from docgen.serve import work

    def damaged():
        raise OSError("the package's data cannot be read")

    monkeypatch.setattr(docgen.batch, "exit_with_parent", lambda: None)  # not in the test process
    monkeypatch.setattr(icd10, "codes", damaged)
    work.start_worker()


@pytest.mark.slow
def test_the_first_request_does_not_pay_for_the_icd10_table(tmp_path):
    """Workers load every table a request needs before the first request: with no cached ICD-10-CM
    table (a new machine), building it (about 1.6 s) used to fall in the first request's time limit,
    which then failed, and so did every next one (each interrupted build was lost)."""
    data = tmp_path / "data"
    data.mkdir()
    key = add_key(data / "keys.json", "ehr")
    server = Server(data, args=("--workers", "1", "--timeout", "0.5"),
                    env={"DOCGEN_CACHE": str(tmp_path / "empty-cache")}).start(timeout=120)
    try:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=120) as client:
            answer = client.post(f"/v1/check?as_of={AS_OF}", content=json.dumps(builders.plan_dict(), default=str))
            assert answer.status_code == 200, answer.text
    finally:
        server.stop()


# --- packets ------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_packet_is_the_pdf_docgen_packet_writes_or_422_with_the_refusals(client, tmp_path):
    from docgen.load import parse_yaml

    plan = parse_yaml((FIXTURES / "plans" / "plan-adult-ptsd-release-authorization-complete.yaml").read_text())
    body = json.dumps([plan], default=str).encode()
    query = {"client": plan["client"]["id"], "purpose": "claim", "recipient": "Acme Health Plan", "as_of": AS_OF}
    (tmp_path / "request.json").write_bytes(body)
    proc = cli("packet", "request.json", "--client", query["client"], "--purpose", "claim", "--recipient",
               query["recipient"], "--as-of", AS_OF, "--out", "packet.pdf", cwd=tmp_path)
    answer = client.post("/v1/packets", params=query, content=body)
    if proc.returncode == 0:
        assert answer.status_code == 200 and answer.content == (tmp_path / "packet.pdf").read_bytes()
    else:
        assert answer.status_code == 422 and answer.json()["refusals"]
    nobody = client.post("/v1/packets", params={**query, "client": "C-NOBODY"}, content=body)
    assert nobody.status_code == 400 and nobody.json() == {"error": "no record of client C-NOBODY in the input"}
    incomplete = copy.deepcopy(plan)
    incomplete["consents"] = []
    refused = client.post("/v1/packets", params=query, content=json.dumps([incomplete], default=str))
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"].startswith("packet refused") and refused.json()["refusals"]
    assert {"record", "field", "rule", "message"} == set(refused.json()["refusals"][0])


# --- batches ------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_200_record_batch_whose_files_match_its_manifest(client):
    plans = records(200, builders.plan_dict(), "TP-M")
    plans[7]["consents"] = []  # one refused
    created = client.post(f"/v1/batches?as_of={AS_OF}&format=pdf", content="\n".join(json.dumps(p, default=str)
                                                                                    for p in plans))
    assert created.status_code == 202 and created.headers["location"] == f"/v1/batches/{created.json()['id']}"
    job_id = created.json()["id"]
    status = wait_job(client, job_id)
    assert status["status"] == "done" and status["done"] == status["total"] == 200 and status["progress"] == 1
    assert status["counts"]["final"] == 199 and status["counts"]["refused"] == 1 and status["ok"] is False
    rows = client.get(f"/v1/batches/{job_id}/manifest").json()["records"]
    assert len(rows) == 200 and {r["id"] for r in rows} == {p["id"] for p in plans}
    served = 0
    for row in rows:
        for output in row["outputs"]:
            got = client.get(f"/v1/batches/{job_id}/files/{output['path']}")
            assert got.status_code == 200
            assert hashlib.sha256(got.content).hexdigest() == output["sha256"] and len(got.content) == output["bytes"]
            served += 1
    assert served == 199
    for bad in ("../../keys.json", "..%2F..%2Fkeys.json", "/etc/passwd", "audit.sqlite", "manifest.jsonl",
                "%2e%2e/%2e%2e/jobs.sqlite"):
        assert client.get(f"/v1/batches/{job_id}/files/{bad}").status_code == 404, bad
    other = client.get(f"/v1/batches/{job_id}", headers={"Authorization": "Bearer dgk_x"})
    assert other.status_code == 401


def test_a_batch_of_another_key_is_not_found(server, client):
    created = client.post(f"/v1/batches?as_of={AS_OF}",
                          content=json.dumps(records(1, builders.plan_dict(), "TP-O"), default=str))
    job_id = created.json()["id"]
    other = add_key(server.data / "keys.json", "other-agency", "batch")
    seen = httpx.get(f"{server.url}/v1/batches/{job_id}", headers={"Authorization": f"Bearer {other}"})
    assert seen.status_code == 404 and seen.json() == {"error": "no such batch"}
    assert client.get("/v1/batches/not-an-id").status_code == 404


@pytest.mark.slow
def test_a_service_killed_mid_batch_completes_the_job_when_restarted(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    key = add_key(data / "keys.json", "ehr")
    server = Server(data, args=("--workers", "2")).start()
    auth = {"Authorization": f"Bearer {key}"}
    plans = records(400, builders.plan_dict(), "TP-K")  # long enough to be cut short: ~2 s on 2 workers
    try:
        with httpx.Client(base_url=server.url, headers=auth, timeout=60) as client:
            job_id = client.post(f"/v1/batches?as_of={AS_OF}&format=pdf",
                                 content=json.dumps(plans, default=str)).json()["id"]
            deadline = time.monotonic() + 120
            while client.get(f"/v1/batches/{job_id}").json()["done"] < 10:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        server.kill()
        assert (data / "batches" / job_id / "out" / ".manifest-journal.jsonl").is_file(), "killed mid-batch"
        server = Server(data, args=("--workers", "2")).start()
        with httpx.Client(base_url=server.url, headers=auth, timeout=60) as client:
            status = wait_job(client, job_id)
            assert status["status"] == "done" and status["ok"] is True
            # the records done before the kill are kept (skipped), the others rendered: none redone
            assert status["counts"]["final"] + status["counts"]["skipped"] == 400 and status["counts"]["skipped"] >= 10
            rows = client.get(f"/v1/batches/{job_id}/manifest").json()["records"]
            assert [r["id"] for r in rows] == [p["id"] for p in plans]
            for row in rows:
                [output] = row["outputs"]
                assert hashlib.sha256(client.get(f"/v1/batches/{job_id}/files/{output['path']}").content
                                      ).hexdigest() == output["sha256"]
    finally:
        server.stop()
    from docgen import api

    events = api.audit(data)
    assert len(events) < 2 * 400, "resumed, not redone"
    assert {e["record_id"] for e in events} == {p["id"] for p in plans}


class _Receiver(BaseHTTPRequestHandler):
    calls: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).calls.append((dict(self.headers), body))
        self.send_response(500 if len(type(self).calls) == 1 else 204)  # the first attempt fails: retried
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.slow
def test_the_webhook_is_signed_and_retried_until_delivered(server, client):
    _Receiver.calls = []
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{receiver.server_address[1]}/hook?x=1"
        created = client.post("/v1/batches", params={"as_of": AS_OF, "format": "pdf", "callback_url": url},
                              content=json.dumps(records(3, builders.plan_dict(), "TP-W"), default=str))
        job_id = created.json()["id"]
        wait_job(client, job_id)
        deadline = time.monotonic() + 30
        while client.get(f"/v1/batches/{job_id}").json()["callback"] != "delivered":
            assert time.monotonic() < deadline, _Receiver.calls
            time.sleep(0.1)
    finally:
        receiver.shutdown()
    assert len(_Receiver.calls) == 2
    secret = (server.data / "webhook.secret").read_text().strip().encode()
    assert stat.S_IMODE((server.data / "webhook.secret").stat().st_mode) == 0o600
    for headers, body in _Receiver.calls:
        timestamp = headers["X-Docgen-Timestamp"]
        expected = "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Docgen-Signature"], expected)
        assert abs(int(timestamp) - time.time()) < 60
        event = json.loads(body)
        assert event["event"] == "batch.ended" and event["batch"]["id"] == job_id
        assert event["batch"]["counts"]["final"] == 3


# --- the log ------------------------------------------------------------------------------------
def test_the_log_has_ids_never_bodies_client_text_or_keys(server, client):
    plan = builders.plan_dict()
    plan["id"], plan["client"]["name"] = "TP-LOGGED", HOSTILE_NAME
    plan["presenting_concerns"] = "Clinical text that must never reach a log."
    client.post(f"/v1/check?as_of={AS_OF}", content=json.dumps(plan, default=str))
    client.post("/v1/check", content=b'{"broken": ')
    time.sleep(0.2)
    log = server.log.read_text(encoding="utf-8")
    assert "POST /v1/check 200" in log and "key=ehr ids=TP-LOGGED" in log
    for secret in (HOSTILE_NAME, "Clinical text", server.full, server.reader, "broken", "Traceback"):
        assert secret not in log, secret
    assert builders.plan_dict()["client"]["name"] not in log


def test_openapi_lists_the_endpoints(client):
    spec = client.get("/openapi.json").json()
    assert {"/healthz", "/v1/check", "/v1/render", "/v1/batches", "/v1/batches/{job_id}",
            "/v1/batches/{job_id}/manifest", "/v1/batches/{job_id}/files/{path}", "/v1/packets"} <= set(spec["paths"])
    render = spec["paths"]["/v1/render"]["post"]
    assert {p["name"] for p in render["parameters"]} == {"format", "allow_draft", "profile", "as_of", "sign",
                                                         "sign_role"}
    assert {"/v1/fhir/export", "/v1/fhir/import"} <= set(spec["paths"])


@pytest.mark.slow
def test_schemathesis_finds_no_server_error(server, tmp_path):
    proc = subprocess.run(
        [str(Path(os.sys.executable).with_name("st")), "run", f"{server.url}/openapi.json", "--checks",
         "not_a_server_error", "--max-examples", "6", "--phases", "examples,coverage,fuzzing", "--seed", "1",
         "--workers", "1", "-H", f"Authorization: Bearer {server.full}", "--exclude-path-regex", "^/v1/batches$",
         "--generation-deterministic"],
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "Fuzzing" in proc.stdout and "failed" not in proc.stdout.lower(), proc.stdout[-4000:]


def test_copy_of_a_record_is_not_needed_twice(client):
    """A note checked with its plan in one list is judged against it, as `docgen check` on one file."""
    plan, note = builders.plan_dict(), builders.note_dict()
    wrong = copy.deepcopy(note)
    wrong["goals_addressed"][0]["goal_id"] = "G-NOT-IN-PLAN"
    answer = client.post(f"/v1/check?as_of={AS_OF}", content=json.dumps([plan, wrong], default=str)).json()
    assert "note-goal-link" in {f["rule"] for f in answer["records"][1]["findings"]}


# --- the page, in headless Chromium ------------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.slow
def test_the_page_checks_uploaded_files_and_downloads_a_pdf_and_escapes_what_clients_send(server):
    from playwright.sync_api import sync_playwright

    hostile = builders.plan_dict()
    hostile["id"] = '<img src=x onerror="window.pwned=1">'
    hostile["client"]["name"] = HOSTILE_NAME
    del hostile["consents"]
    hostile_file = {"name": "<script>window.pwned=2</script>.json", "mimeType": "application/json",
                    "buffer": json.dumps(hostile).encode()}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(accept_downloads=True)
            dialogs: list[str] = []
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(server.url + "/")
            page.fill("#key", server.full)
            page.click("#key-save")
            page.reload()  # the key is kept for the session
            assert page.inner_text("#key-state") == "key set for this session"
            fixtures = [{"name": path.name, "mimeType": "text/plain", "buffer": path.read_bytes()}
                        for path in (FIXTURES / "plans" / "plan-adult-mdd-complete.yaml",
                                     FIXTURES / "csv" / "notes-sample.csv")]
            page.set_input_files("#files", [*fixtures, hostile_file])
            page.fill("#as-of", AS_OF)
            page.click("#check")
            page.wait_for_selector("#results .record")
            text = page.inner_text("#results")
            sections = page.locator("#results .record")
            assert sections.count() >= 3
            complete = page.locator("#results .record", has_text="Treatment plan TP-1001")
            assert "Complete: nothing is missing" in complete.inner_text()
            # the hostile record: shown as text, its findings in plain words (what, where, which rule)
            bad = page.locator("#results .record", has_text="window.pwned=1")
            bad_text = bad.inner_text()
            assert '<img src=x onerror="window.pwned=1">' in bad_text
            assert "<script>window.pwned=2</script>.json" in bad_text
            assert "Incomplete: fix what is listed below" in bad_text and "rule consent-treatment" in bad_text
            assert "To fix in " in bad_text and "(s)" not in text and "blocker:" not in text  # words, not machine's
            assert HOSTILE_NAME not in text  # client names are not shown: ids only
            assert page.evaluate("window.pwned") is None and dialogs == []
            assert page.locator("#results img, #results script").count() == 0
            with page.expect_download() as download:
                complete.locator("button[data-format=pdf]").click()
            assert download.value.suggested_filename == "TP-1001.pdf"
            pdf = Path(download.value.path()).read_bytes()
            assert pdf.startswith(b"%PDF")
            with page.expect_download() as draft:
                bad.locator("button[data-format=docx]").click()
            assert zipfile.is_zipfile(draft.value.path())
            assert page.evaluate("window.pwned") is None
        finally:
            browser.close()
    from docgen.load import parse_yaml

    plan = parse_yaml((FIXTURES / "plans" / "plan-adult-mdd-complete.yaml").read_text(encoding="utf-8"))
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.full}"}) as client:
        same = client.post(f"/v1/render?as_of={AS_OF}", content=json.dumps(plan, default=str))
    assert same.content == pdf, "the page downloads the bytes the API (and docgen render) gives"


def test_the_page_offers_no_download_a_lone_render_would_judge_otherwise(client):
    plan, note = builders.plan_dict(), builders.note_dict()
    plan["id"], note["plan_id"], note["id"] = "TP-PAGE", "TP-PAGE", "PN-PAGE"
    note["goals_addressed"][0]["goal_id"] = "G-NOT-IN-PLAN"
    files = [("files", ("plan.json", json.dumps(plan, default=str), "application/json")),
             ("files", ("<b>note</b>.json", json.dumps(note, default=str), "application/json"))]
    answer = client.post(f"/v1/page/results?as_of={AS_OF}", files=files)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    html = answer.text
    note_part = html[html.index("PN-PAGE"):]
    assert "rule <code>note-goal-link</code>" in note_part
    assert "Not offered for download here: rendered on its own it would be judged complete" in note_part
    assert "data-record" not in note_part and "data-record" in html[:html.index("PN-PAGE")]
    assert "&lt;b&gt;note&lt;/b&gt;.json" in html and "<b>note</b>" not in html
    assert client.post("/v1/page/results", content=b"not multipart").status_code == 400


def test_a_worker_verifies_its_kept_trail_whole_again_so_a_removed_lock_is_seen(tmp_path, monkeypatch):
    """A worker keeps its trail open and verifies only new rows; a lock deleted by hand behind them
    is seen when the trail is verified whole again (every REVERIFY_SECONDS), before the next render."""
    import sqlite3

    from docgen.errors import AuditError
    from docgen.ledger.locks import lock_of
    from docgen.serve import work

    trail_path = tmp_path / "audit.sqlite"
    trail = work._trail(str(trail_path))  # noqa: SLF001
    trail.lock(lock_of(builders.validate(builders.plan_dict()), "0" * 64))
    db = sqlite3.connect(trail_path)
    db.execute("DROP TRIGGER locks_no_delete")
    db.execute("DELETE FROM locks")
    db.commit()
    db.close()
    assert work._trail(str(trail_path)) is trail  # within the window: the kept trail  # noqa: SLF001
    monkeypatch.setattr(work, "REVERIFY_SECONDS", 1e9)
    assert work._trail(str(trail_path)) is trail  # noqa: SLF001
    monkeypatch.setattr(work, "REVERIFY_SECONDS", 0.0)
    try:
        with pytest.raises(AuditError, match="hash chain is broken"):
            work._trail(str(trail_path))  # noqa: SLF001
    finally:
        work._forget_trails()  # noqa: SLF001



def test_a_webhook_does_not_follow_a_redirect(tmp_path):
    """A receiver (public, allowed) answering 302 to an internal address is not followed: the
    redirect would take the signed POST past the check of the URL."""
    from docgen.serve.jobs import Jobs
    from docgen.serve.webhook import Webhooks

    class Redirect(BaseHTTPRequestHandler):
        followed: list[str] = []

        def do_POST(self):
            if self.path == "/inside":
                Redirect.followed.append(self.path)
                self.send_response(200)
            else:
                self.send_response(307)
                self.send_header("Location", f"http://127.0.0.1:{self.server.server_address[1]}/inside")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        hooks = Webhooks(Jobs(tmp_path), b"k" * 32, attempts=1, allowed=frozenset({"127.0.0.1"}))
        request = __import__("urllib.request").request.Request(
            f"http://127.0.0.1:{receiver.server_address[1]}/hook", data=b"{}", method="POST")
        with pytest.raises(__import__("urllib.error").error.HTTPError, match="307"):
            hooks.opener.open(request, timeout=10)
    finally:
        receiver.shutdown()
    assert Redirect.followed == []


def test_a_webhook_goes_to_the_address_that_was_checked_not_one_resolved_again(tmp_path, monkeypatch):
    """DNS rebinding: the receiver's name resolves to a public address when the URL is checked and to
    the service's own loopback a moment later, when the connection is made. The POST must go to the
    address that passed the check (here unreachable), never to what the name resolves to next (a
    service on the host: here a listener on 127.0.0.1 that must get nothing)."""
    import socket

    from docgen.serve.jobs import Jobs
    from docgen.serve.webhook import Webhooks

    class Inside(BaseHTTPRequestHandler):
        reached: list[str] = []

        def do_POST(self):
            Inside.reached.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    inside = ThreadingHTTPServer(("127.0.0.1", 0), Inside)
    port = inside.server_address[1]
    threading.Thread(target=inside.serve_forever, daemon=True).start()
    real = socket.getaddrinfo
    answers = iter(["8.8.8.8"])  # public at the check

    def rebinding(host, *args, **kwargs):
        if host == "hooks.example.org":
            address = next(answers, "127.0.0.1")  # then the host's own loopback
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    jobs = Jobs(tmp_path)
    job_id = jobs.create("ehr", b"[]", False, {}, f"http://hooks.example.org:{port}/hook")
    jobs.update(job_id, status="done")
    hooks = Webhooks(jobs, b"k" * 32, attempts=1, timeout=1)
    try:
        hooks._deliver(jobs.get(job_id))  # noqa: SLF001 - the delivery itself, on this thread
    finally:
        inside.shutdown()
    assert Inside.reached == []
    assert jobs.get(job_id)["callback_state"] == "failed"


def test_a_pinned_https_delivery_checks_the_certificate_against_the_host_name(tmp_path, monkeypatch):
    """The delivery connects to the checked address itself, so TLS must still be checked against the
    URL's host name (SNI and certificate): a receiver with a certificate for the name gets the POST, a
    name its certificate does not cover is refused."""
    import ssl
    import urllib.error
    import urllib.request
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from docgen.serve.webhook import pinned_opener

    def issue(subject: str, issuer_key, issuer_name, key, ca: bool) -> x509.Certificate:
        now = datetime.now(UTC)
        builder = (x509.CertificateBuilder().subject_name(x509.Name.from_rfc4514_string(f"CN={subject}"))
                   .issuer_name(issuer_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.example.org")]),
                                            critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = issue("docgen test CA", ca_key, x509.Name.from_rfc4514_string("CN=docgen test CA"), ca_key, True)
    server_cert = issue("hooks.example.org", ca_key, ca.subject, server_key, False)
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    key_pem = server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())
    (tmp_path / "server.pem").write_bytes(server_cert.public_bytes(serialization.Encoding.PEM) + key_pem)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))  # the test CA is the one trusted

    class Receiver(BaseHTTPRequestHandler):
        got: list[str] = []

        def do_POST(self):
            Receiver.got.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(tmp_path / "server.pem")
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        opener = pinned_opener(("127.0.0.1",))
        post = urllib.request.Request(f"https://hooks.example.org:{port}/hook", data=b"{}", method="POST")
        with opener.open(post, timeout=10) as answer:
            assert answer.status == 204
        other = urllib.request.Request(f"https://other.example.org:{port}/hook", data=b"{}", method="POST")
        with pytest.raises(urllib.error.URLError, match=r"CERTIFICATE_VERIFY_FAILED"):
            opener.open(other, timeout=10)
    finally:
        server.shutdown()
    assert Receiver.got == ["/hook"]


# --- FHIR (issue #15) over HTTP -------------------------------------------------------------------------
FHIR_DATA = Path(__file__).parent / "data" / "fhir"


def test_fhir_export_answers_the_bundle_docgen_fhir_export_writes(client, tmp_path):
    plan, note = builders.plan_dict(), builders.note_dict()
    note["psychotherapy_note"] = True  # never exported, whatever the options
    body = json.dumps([plan, note], default=str).encode()
    (tmp_path / "request.json").write_bytes(body)
    proc = cli("fhir", "export", "request.json", "--out", "bundle.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    answer = client.post("/v1/fhir/export", content=body)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/fhir+json")
    assert answer.content == (tmp_path / "bundle.json").read_bytes()
    bundle = answer.json()
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "CarePlan", "Condition"} <= kinds and "Encounter" not in kinds  # the note stayed out
    ndjson = client.post("/v1/fhir/export?ndjson=true", content=body)
    lines = ndjson.content.decode().splitlines()
    assert ndjson.status_code == 200 and len(lines) == len(bundle["entry"])
    assert [json.loads(line)["resourceType"] for line in lines] == [e["resource"]["resourceType"]
                                                                   for e in bundle["entry"]]


def test_fhir_export_of_several_clients_asks_for_one_and_bad_input_is_one_line(client):
    plan, other = builders.plan_dict(), builders.plan_dict()
    other["id"], other["client"]["id"] = "TP-OTHER", "C-OTHER"
    body = json.dumps([plan, other], default=str).encode()
    several = client.post("/v1/fhir/export", content=body)
    assert several.status_code == 400 and several.json()["error"].startswith("client: the records are of 2 clients")
    one = client.post("/v1/fhir/export?client=C-OTHER", content=body)
    assert one.status_code == 200 and "bundle-C-OTHER" in one.text and f"\"{plan['client']['id']}\"" not in one.text
    assert client.post("/v1/fhir/export?purpose=nonsense", content=body).status_code == 400
    broken = client.post("/v1/fhir/import", content=b'{"resourceType": "Bundle", ')
    assert broken.status_code == 400 and "\n" not in broken.json()["error"]


def test_fhir_import_answers_the_records_docgen_fhir_import_writes(client, tmp_path):
    from docgen.load import parse_yaml

    for name in ("ehr-everything-phq9-careplan.json", "ehr-bulk-telehealth-note.ndjson",
                 "ehr-transaction-gad7-total-mismatch.json"):
        source = FHIR_DATA / name
        proc = cli("fhir", "import", source, "--out", tmp_path / name, cwd=tmp_path)
        assert proc.returncode in (0, 1), proc.stderr
        written = {p.stem: parse_yaml(p.read_text(encoding="utf-8")) for p in (tmp_path / name).glob("*.yaml")}
        answer = client.post("/v1/fhir/import", content=source.read_bytes())
        assert answer.status_code == 200, answer.text
        got = answer.json()
        def as_validated(data: dict) -> dict:  # YAML's scalars and JSON's numbers validate alike
            return builders.validate(data).model_dump(mode="json")

        assert {r["id"]: as_validated(r["record"]) for r in got["records"]} == {
            key: as_validated(data) for key, data in written.items()}
        assert [f"{line['kind']}: {line['resource']}: {line['message']}" for line in got["report"]] == [
            line for line in proc.stdout.decode().splitlines() if not line.startswith(str(tmp_path))]
        assert bool(got["findings"]) == (proc.returncode == 1)


def test_fhir_needs_a_key_with_the_fhir_scope(server):
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.reader}"}) as reader:
        assert reader.post("/v1/fhir/import", content=b"{}").status_code == 403
        assert reader.post("/v1/fhir/export", content=b"{}").status_code == 403


# --- signed copies over HTTP ------------------------------------------------------------------------------
def test_sign_without_a_service_key_is_refused(client):
    body = json.dumps(builders.plan_dict(), default=str)
    no_key = client.post(f"/v1/render?as_of={AS_OF}&sign=true", content=body)
    assert no_key.status_code == 400 and no_key.json()["error"].startswith("sign: the service has no signing key")
    alone = client.post(f"/v1/render?as_of={AS_OF}&sign_role=clinician", content=body)
    assert alone.status_code == 400 and alone.json()["error"] == "sign_role: goes with sign=true"
    assert client.post("/v1/batches?sign=true", content="[{}]").status_code == 400


@pytest.mark.slow
def test_a_service_with_a_key_signs_final_pdfs_of_renders_and_batches(tmp_path_factory):
    """`docgen serve --sign-with KEY`: `sign=true` gets the final PDF signed as `render --sign-with`
    signs it, in a render and in a batch; a draft is never signed."""
    import pki
    from docgen.sign import verify_pdf

    folder = tmp_path_factory.mktemp("signing")
    ca = pki.make_ca("Service Test CA")
    key = pki.pkcs12(folder / "agency.p12", pki.make_signer(ca, "Riverside Agency"), ca, b"pass phrase")
    (folder / "phrase").write_text("pass phrase\n")
    data = folder / "data"
    data.mkdir(mode=0o700)
    service = Server(data, args=("--workers", "1", "--sign-with", str(key), "--passphrase-file",
                                 str(folder / "phrase")))
    token = add_key(data / "keys.json", "ehr")
    service.start()
    try:
        with httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as c:
            plan = builders.plan_dict()
            plan["id"], plan["client"]["id"] = "TP-SIGNED", "C-SIGNED"
            signed = c.post(f"/v1/render?as_of={AS_OF}&sign=true&sign_role=clinician",
                            content=json.dumps(plan, default=str))
            assert signed.status_code == 200, signed.text
            [report] = verify_pdf(signed.content)
            assert (report.field, report.signer, report.intact) == ("sig_clinician", "Riverside Agency", True)
            draft = builders.plan_dict()
            draft["id"], draft["client"]["id"] = "TP-DRAFT-S", "C-DRAFT-S"
            del draft["consents"]
            unsigned = c.post(f"/v1/render?as_of={AS_OF}&sign=true&allow_draft=true",
                              content=json.dumps(draft, default=str))
            assert unsigned.status_code == 200 and verify_pdf(unsigned.content) == []
            job = c.post(f"/v1/batches?as_of={AS_OF}&format=pdf&sign=true",
                         content=json.dumps(records(2, builders.plan_dict(), "TP-SB"), default=str)).json()["id"]
            assert wait_job(c, job)["status"] == "done"
            rows = c.get(f"/v1/batches/{job}/manifest").json()["records"]
            for row in rows:
                [output] = [o for o in row["outputs"] if o["path"].endswith(".pdf")]
                pdf = c.get(f"/v1/batches/{job}/files/{output['path']}").content
                assert [r.signer for r in verify_pdf(pdf)] == ["Riverside Agency"]
    finally:
        service.stop()
    assert b"pass phrase" not in (service.log.read_bytes() if service.log else b"")
