"""The work of one request, run in a worker process of the service's pool: parse the body, then call
:mod:`docgen.api` exactly as the command line does (the body written to ``request.json`` in a private
temporary folder, so that sources, verdicts and bytes are the CLI's). Every function returns a
:class:`Reply` (plain data, picklable) and never raises for bad input.

The time limit is counted here, from the start of the work: a timer in the worker (``SIGALRM``)
interrupts a request that runs longer, whatever time it spent waiting in the queue.
"""
from __future__ import annotations

import json
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .. import api
from ..check.profile import builtin_names
from ..errors import AuditError, DocgenError, LoadError, OutputError, PacketRefused, WriteError
from ..load import parse_json
from ..wording import counted

#: The name a request body is written under: ``docgen check request.json`` gives the same sources.
REQUEST = "request.json"


@dataclass
class Reply:
    status: int
    body: dict[str, Any] = field(default_factory=dict)  # the JSON answer (or, for documents, its headers)
    content: bytes | None = None  # document bytes, when the answer is a document
    media_type: str = "application/json"
    record_ids: list[str] = field(default_factory=list)  # for the access log: ids only
    retire: bool = False  # the worker was interrupted mid-work: the pool replaces it (see limits.Pool)


class TimeUp(BaseException):
    """The request's time limit passed (raised by the worker's timer)."""


#: The request's state as the timer sees it. ``committing``: it has begun to lock a record in the audit
#: trail; past that point it runs to its end (writing the documents it made and the trail's event),
#: whatever the time, so that no record is locked by a request that answered 503 with no document.
#: ``expired``: the timer went off before that (a library that caught :class:`TimeUp` and raised
#: something else instead cannot turn the answer into another one).
_REQUEST = {"committing": False, "expired": False}


def _alarm(_signum, _frame) -> None:
    if not _REQUEST["committing"]:
        _REQUEST["expired"] = True
        raise TimeUp


class Committing:
    """The worker's audit trail as a request uses it: taking a lock marks the request as committing."""

    def __init__(self, trail: Any) -> None:
        self._trail = trail

    def lock(self, lock: Any) -> Any:
        if _REQUEST["expired"]:  # the timer went off and something carried on regardless: no lock
            raise TimeUp
        _REQUEST["committing"] = True
        return self._trail.lock(lock)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._trail, name)


def timed(fn_name: str, timeout: float, *args: Any) -> Reply:
    """Run ``fn_name(*args)`` in this worker with a time limit counted from now (until it begins to
    lock a record: see :data:`_REQUEST`)."""
    work: dict[str, Callable[..., Reply]] = {"check": check, "render": render, "packet": packet, "upload": upload,
                                             "fhir_export": fhir_export, "fhir_import": fhir_import}
    fn = work[fn_name]
    _REQUEST.update(committing=False, expired=False)
    late = Reply(503, {"error": f"the request took longer than the time limit ({timeout:g} s)"}, retire=True)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        reply = fn(*args)
    except TimeUp:
        reply = late
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if _REQUEST["expired"]:
        # interrupted anywhere, perhaps halfway through updating a cache: this process is not used again
        _forget_trails()
        return late
    return reply


#: The audit trail this worker keeps open, by path, and when it was opened: its chain is verified whole
#: when opened, then from where it was vouched for (the rows other workers and batches appended), as a
#: batch does. A row changed or deleted behind the vouched-for position (a lock removed by hand) is
#: seen by the next whole verification: the trail is opened again, and verified whole, every
#: :data:`REVERIFY_SECONDS`, so such tampering stops final renders within that time.
_TRAILS: dict[str, tuple[Any, float]] = {}
REVERIFY_SECONDS = 60.0


def _trail(audit: str) -> Any:
    from .. import __version__  # noqa: PLC0415
    from ..ledger.trail import AuditTrail  # noqa: PLC0415

    kept = _TRAILS.get(audit)
    if kept is not None and time.monotonic() - kept[1] > REVERIFY_SECONDS:
        _forget_trails()
        kept = None
    if kept is None:
        kept = _TRAILS[audit] = (AuditTrail(Path(audit), __version__), time.monotonic())
    return kept[0]


def _forget_trails() -> None:
    for trail, _opened in _TRAILS.values():
        try:
            trail.close()
        except Exception:  # noqa: BLE001, S110 - closing what an interrupted request left: nothing to report
            pass
    _TRAILS.clear()


#: The service's signing key (``docgen serve --sign-with``), as this worker holds it: file and passphrase.
_SIGNING: dict[str, Any] = {}


def start_worker(signing: tuple[str, bytes | None] | None = None) -> None:
    """Initializer of a worker of the service's pool: exit with the service, and get ready before the
    first request (templates prepared for every kind and format, the rules and the ICD-10-CM table
    loaded, the table built if no process has cached it yet), so that no request's time limit pays for
    it. ``signing``: the service's key file and passphrase."""
    from ..batch import exit_with_parent  # noqa: PLC0415
    from ..check.icd10 import codes  # noqa: PLC0415
    from ..load import parse_yaml  # noqa: PLC0415

    exit_with_parent()
    if signing is not None:
        _SIGNING.update(sign_with=signing[0], passphrase=signing[1])
    try:
        codes()  # the skeletons below hold no diagnosis, so nothing else would load it
    except Exception:  # noqa: BLE001, S110 - a request that needs the table says what is wrong
        pass
    try:
        for kind in ("treatment_plan", "progress_note"):
            for formats in (("pdf",), ("docx",), ("docx", "pdf")):
                api.render_record(parse_yaml(api.new(kind)), formats=formats, allow_draft=True)
    except DocgenError:
        pass  # a bad template or style: each request says so


def ready() -> bool:
    """A task that only makes the pool start (and warm) its worker."""
    return True


def error_reply(exc: DocgenError) -> Reply:
    """A docgen error as an HTTP answer: the service's own storage failing is 503, a refused packet 422,
    a bad option or input 400/422."""
    where = f"{exc.where}: " if exc.where and exc.where not in ("--out",) else ""
    if isinstance(exc, (AuditError, OutputError, WriteError)):
        return Reply(503, {"error": f"the service cannot write its data: {exc}"})
    if isinstance(exc, PacketRefused):
        return Reply(422, {"error": str(exc), "refusals": [r.as_dict() for r in exc.refusals]})
    if isinstance(exc, LoadError):
        return Reply(400, {"error": f"request body: {exc}"})
    return Reply(400 if exc.exit_code == 2 else 422, {"error": f"{where}{exc}"})


def body_text(body: bytes, wanted: str) -> str:
    """A request body as text; a LoadError (one line) when it is empty (``wanted`` says what to send)
    or not UTF-8."""
    if not body.strip():
        raise LoadError(f"empty body: send {wanted}")
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(f"not UTF-8 text (byte {exc.start})") from None


def parse_body(body: bytes) -> Any:
    """The JSON of a request body; a LoadError (one line) when it is not JSON."""
    return parse_json(body_text(body, "a JSON record"))


def unsafe(data: Any) -> str | None:
    """Why a record may not be served as sent, or None. Over HTTP a record names no file of the server:
    a signature ``image`` (a path the renderer would read and embed) and a ``payer.profile`` that is a
    path rather than a built-in name are refused."""
    items = data if isinstance(data, list) else [data]
    for item in items:
        if not isinstance(item, dict):
            continue
        record = item.get("id") if isinstance(item.get("id"), str) else "(no id)"
        signatures = item.get("signatures")
        for sig in signatures if isinstance(signatures, list) else []:
            if isinstance(sig, dict) and sig.get("image"):
                return f"record {record}: signatures: image: a signature image is a file of the server; not " \
                       "accepted over HTTP"
        payer = item.get("payer")
        named = payer.get("profile") if isinstance(payer, dict) else None
        if isinstance(named, str) and named not in builtin_names() and (
                any(c in named for c in "/\\") or named.endswith(".toml") or Path(named).exists()):
            return f"record {record}: payer.profile: name a built-in profile over HTTP, not a file"
    return None


def _sources(rows: list[dict], folder: Path) -> list[dict]:
    prefix = f"{folder}/"
    for row in rows:
        if isinstance(row.get("source"), str) and row["source"].startswith(prefix):
            row["source"] = row["source"][len(prefix):]
    return rows


@contextmanager
def request_file(body: bytes) -> Iterator[Path]:
    """A private folder holding the body as ``request.json``, as the CLI would be given it; removed after."""
    with tempfile.TemporaryDirectory(prefix="docgen-serve-") as tmp:
        folder = Path(tmp)
        (folder / REQUEST).write_bytes(body)
        yield folder


def check(body: bytes, profile: str | None, as_of: date | None, audit: str | None) -> Reply:
    """``docgen check request.json --format json [--profile P] [--as-of D] [--audit A]``."""
    try:
        parse_body(body)
        with request_file(body) as folder:
            results = api.check([folder / REQUEST], profile=profile, as_of=as_of, audit=audit)
            rows = _sources([r.as_dict() for r in results], folder)
    except DocgenError as exc:
        return error_reply(exc)
    return Reply(200, {"records": rows}, record_ids=[r["id"] for r in rows if r.get("id")])


def render(body: bytes, formats: tuple[str, ...], profile: str | None, allow_draft: bool, as_of: date | None,
           audit: str, sign: bool = False, sign_role: str | None = None) -> Reply:
    """``docgen render request.json --out TMP --format F [--allow-draft] --audit A [--sign-with KEY
    --sign-role R]``: the bytes it writes, or why not (422 refused/invalid/failed, 409 locked). ``sign``:
    a final PDF is signed with the service's key, as ``render --sign-with`` signs it."""
    signing = dict(_SIGNING, sign_role=sign_role) if sign else {}
    try:
        data = parse_body(body)
        if not isinstance(data, dict):
            return Reply(400, {"error": "request body: render takes one record (a JSON object)"})
        why = unsafe(data)
        if why:
            return Reply(422, {"error": why})
        with request_file(body) as folder:
            [item] = api.render([folder / REQUEST], folder / "out", formats=formats, profile=profile,
                                allow_draft=allow_draft, as_of=as_of, trail=Committing(_trail(audit)), **signing)
            result = _sources([item.result.as_dict()], folder)[0]
    except DocgenError as exc:
        _forget_trails()  # a trail that failed (damaged, unreadable) is opened again next time
        return error_reply(exc)
    ids = [item.id] if item.id else []
    outcome = item.outcome.value
    what = f"record {item.id or '(no id)'}"
    if outcome in ("final", "draft"):
        return Reply(200, {"status": outcome, "id": item.id}, documents_of(item.documents, formats), record_ids=ids)
    if outcome == "locked":
        held = api.locks(audit, record=item.id) if item.id else []
        return Reply(409, {"error": f"{what}: locked: {item.error}", "status": outcome, "id": item.id,
                           "lock": held[-1] if held else None}, record_ids=ids)
    if outcome == "failed":
        return Reply(422, {"error": f"{what}: failed: {item.error}", "status": outcome, "id": item.id},
                     record_ids=ids)
    blockers = [f for f in result["findings"] if f["severity"] == "blocker"] if outcome == "refused" else \
        result["findings"]
    error = f"{what}: {outcome}: {counted(len(blockers), 'finding')}"
    return Reply(422, {"error": error, "status": outcome, "id": item.id,
                       "findings": result["findings"]}, record_ids=ids)


def documents_of(documents: dict[str, bytes], formats: tuple[str, ...]) -> bytes:
    """One document's bytes, or for two formats a zip of both (fixed dates: same input, same bytes)."""
    if len(formats) == 1:
        return documents[formats[0]]
    import io  # noqa: PLC0415
    import zipfile  # noqa: PLC0415

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for fmt in formats:
            info = zipfile.ZipInfo(f"document.{fmt}", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o600 << 16
            archive.writestr(info, documents[fmt], zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def packet(body: bytes, options: dict[str, Any]) -> Reply:
    """``docgen packet request.json --client ... --out TMP/packet.pdf``: the packet's bytes, or 422 with
    the refusals."""
    try:
        data = parse_body(body)
        if not isinstance(data, list) or not data:
            return Reply(400, {"error": "request body: a packet takes a JSON array of records"})
        why = unsafe(data)
        if why:
            return Reply(422, {"error": why})
        with request_file(body) as folder:
            built = api.packet([folder / REQUEST], folder / "packet.pdf", **options)
    except DocgenError as exc:
        return error_reply(exc)
    return Reply(200, {"status": "written", "documents": len(built.manifest["documents"])}, built.pdf,
                 "application/pdf", [d["id"] for d in built.manifest["documents"] if d.get("id")])


def fhir_export(body: bytes, options: dict[str, Any]) -> Reply:
    """``docgen fhir export request.json --out TMP/bundle.json [--client ID] [--with-documents]
    [--purpose P] [--ndjson]``: the Bundle of the records' one client (or of ``client``)."""
    ndjson = bool(options.get("ndjson"))
    try:
        data = parse_body(body)
        if not isinstance(data, (dict, list)) or not data:
            return Reply(400, {"error": "request body: a record (JSON object) or a JSON array of records"})
        why = unsafe(data)
        if why:
            return Reply(422, {"error": why})
        with request_file(body) as folder:
            out = folder / ("bundle.ndjson" if ndjson else "bundle.json")
            made = api.fhir_export([folder / REQUEST], out, **options)
            if made.invalid:
                first = made.invalid[0]
                finding = first.findings[0] if first.findings else None
                message = f"{finding.path}: {finding.message}" if finding else "invalid"
                return Reply(422, {"error": f"record {first.id or '(no id)'}: invalid: {message}",
                                   "invalid": [r.id for r in made.invalid]})
            if not made.bundles:
                return Reply(422, {"error": "nothing to export: " + ("; ".join(made.left_out) or "no record")})
            if len(made.bundles) > 1:
                clients = ", ".join(b.client for b in made.bundles)
                return Reply(400, {"error": f"client: the records are of {len(made.bundles)} clients ({clients}): "
                                            "name one with client="})
            content = out.read_bytes()
    except DocgenError as exc:
        return error_reply(exc)
    exported = made.bundles[0]
    return Reply(200, {"status": "exported", "client": exported.client}, content,
                 "application/fhir+ndjson" if ndjson else "application/fhir+json",
                 [getattr(r, "id", "") for r in exported.records if getattr(r, "id", "")])


def fhir_import(body: bytes) -> Reply:
    """``docgen fhir import request.json --out TMP``: the records made from a Bundle (JSON) or NDJSON,
    as JSON, with the report (what was assumed, left out or found, per resource) and the findings."""
    try:
        text = body_text(body, "a FHIR Bundle or NDJSON")
        lines = [line for line in text.splitlines() if line.strip()]
        name = "request.ndjson" if len(lines) > 1 and lines[0].lstrip().startswith("{") \
            and lines[0].rstrip().endswith("}") and lines[1].lstrip().startswith("{") else "request.json"
        with tempfile.TemporaryDirectory(prefix="docgen-serve-") as tmp:
            folder = Path(tmp)
            (folder / name).write_bytes(body)
            result = api.fhir_import([folder / name], folder / "records")
    except DocgenError as exc:
        return error_reply(exc)
    records = [{"id": item.id, "kind": item.kind, "client": item.client, "from": item.origin, "record": item.data}
               for item in result.records]
    report = [{"kind": line.kind, "resource": line.resource, "message": line.message}
              for line in result.report.lines]
    return Reply(200, {"records": records, "report": report, "findings": result.findings},
                 record_ids=[item.id for item in result.records])


def upload(files: list[tuple[str, bytes]], as_of: date | None, audit: str | None) -> Reply:
    """The page's upload: record files (JSON, YAML, JSONL, CSV) checked as one run, as ``docgen check``
    checks a folder; each record comes back with its verdict, findings and data (to render it)."""
    from ..load import SUFFIXES, read  # noqa: PLC0415
    from ..write import safe_name  # noqa: PLC0415

    try:
        with tempfile.TemporaryDirectory(prefix="docgen-serve-") as tmp:
            folder = Path(tmp)
            names: dict[str, str] = {}
            for index, (name, content) in enumerate(files):
                suffix = Path(name).suffix.lower()
                stored = f"{index:04d}-{safe_name(Path(name).stem, 40)}{suffix if suffix in SUFFIXES else '.txt'}"
                (folder / stored).write_bytes(content)
                names[stored] = name
            documents = [raw.data if raw.error is None else None for raw in read([folder])]
            results = api.check([folder], as_of=as_of, audit=audit)
    except DocgenError as exc:
        return error_reply(exc)
    rows = []
    for result, data in zip(results, documents, strict=True):
        row = result.as_dict()
        stored = row["source"][len(f"{folder}/"):] if row["source"].startswith(f"{folder}/") else row["source"]
        for key, name in names.items():
            if stored.startswith(key):
                stored = name + stored[len(key):]
        row["source"] = stored
        row["data"] = json.loads(json.dumps(data, default=str)) if data is not None and not unsafe(data) else None
        # the page renders one record at a time (POST /v1/render): offered only where that record alone
        # gets the verdict it got here (a note's plan in the upload, or a lock, may decide it)
        if row["data"] is not None and row["status"] != "invalid":
            alone = api.check_record(row["data"], as_of=as_of).status.value
            if alone != row["status"]:
                row["data"], row["alone"] = None, alone
        rows.append(row)
    return Reply(200, {"records": rows}, record_ids=[r["id"] for r in rows if r.get("id")])


__all__ = ["REQUEST", "Reply", "TimeUp", "timed", "start_worker", "ready", "check", "render", "packet", "upload",
           "parse_body", "unsafe", "error_reply"]
