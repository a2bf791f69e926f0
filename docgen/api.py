"""The Python API. The CLI is a thin layer over these functions, verb for verb (``docgen check`` is
:func:`check`, and so on); every option is a keyword argument of the same name.

For one record held in memory (an EHR integration, a service), :func:`check_record` and
:func:`render_record` take a mapping and return the verdict and the documents' bytes: no file, no
lock, no audit trail.

    >>> from datetime import date
    >>> from docgen import api
    >>> result = api.check_record(plan_dict, as_of=date(2026, 11, 24))
    >>> result.status.value, [f.rule for f in result.blockers]
    >>> rendered = api.render_record(plan_dict, formats=("pdf",))
    >>> rendered.status.value, len(rendered.documents["pdf"])

Errors: every error raised on purpose is a :class:`docgen.errors.DocgenError` (a bad profile, style,
template, key, audit trail or output folder), with a one-line message safe to show and an exit code.
Records that do not pass are not errors: they come back with their status and findings.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .findings import Outcome, RecordResult, Status
from .load import RawDocument, input_hash, read
from .pipeline import IN_MEMORY, Rendered, decide, judge, judge_run, produce, profile_override, safe_error
from .pipeline import validate as validate_document
from .settings import audit_trail, output_trail, trail_path

if TYPE_CHECKING:
    from .ledger.chain import ChainHead, ChainReport

Paths = Iterable[str | os.PathLike]
PathLike = str | os.PathLike
FORMATS: tuple[str, ...] = ("docx", "pdf")


# --- one record in memory -------------------------------------------------------------------------
def _in_memory(data: Mapping[str, Any] | Any, source: str = IN_MEMORY) -> RecordResult:
    if not isinstance(data, Mapping):  # callers are typed, data from outside is not
        return validate_document(RawDocument(source, None, "a record must be a mapping (a JSON object)"))
    return validate_document(RawDocument(source, dict(data)))


def check_record(data: Mapping[str, Any], *, profile: str | None = None, as_of: date | None = None,
                 plan: Mapping[str, Any] | None = None) -> RecordResult:
    """Validate one record held in memory and check it against its profile (``profile`` overrides the
    one its payer picks); ``as_of``: the day review dates are judged against (default: today);
    ``plan``: a progress note's treatment plan, so that the note's goals are checked against it.
    Returns its :class:`~docgen.findings.RecordResult` (``status``, ``findings``). No file, no lock."""
    result = _in_memory(data)
    plans: dict[str, Any] = {}
    if plan is not None:
        planned = _in_memory(plan, f"{IN_MEMORY} plan")
        if planned.record is not None and planned.kind == "treatment_plan":
            plans[planned.record.id] = planned.record
    return judge(result, as_of=as_of or date.today(), override=profile_override(profile), plans=plans)


@lru_cache(maxsize=8)
def _renderer(formats: tuple[str, ...], templates: str | None):
    from .render import Renderer  # noqa: PLC0415

    renderer = Renderer(formats, templates)
    renderer.prepare()  # a bad pdf-style.toml: StyleError before any record
    return renderer


def _formats(formats: Iterable[str]) -> tuple[str, ...]:
    from .errors import UsageError  # noqa: PLC0415

    chosen = tuple(dict.fromkeys(str(f).strip().lower() for f in formats))
    if not chosen or any(f not in FORMATS for f in chosen):
        raise UsageError("use docx, pdf or docx,pdf", where="--format")
    return chosen


def render_record(data: Mapping[str, Any], *, formats: Iterable[str] = FORMATS, allow_draft: bool = False,
                  profile: str | None = None, as_of: date | None = None, templates: PathLike | None = None,
                  plan: Mapping[str, Any] | None = None) -> Rendered:
    """Check one record held in memory (as :func:`check_record`) and render it: the returned
    :class:`~docgen.pipeline.Rendered` has ``status`` (final, draft, refused, invalid or failed),
    ``findings`` and ``documents`` (``"docx"``/``"pdf"`` -> bytes, for final and draft records).
    Pure: no file, no lock, no audit trail."""
    chosen = _formats(formats)
    renderer = _renderer(chosen, str(templates) if templates else None)
    result = check_record(data, profile=profile, as_of=as_of, plan=plan)
    outcome = decide(result, allow_draft=allow_draft)
    try:
        documents = produce(result, outcome, renderer)
    except Exception as exc:  # noqa: BLE001 - one record's failure is its outcome, never a crash
        return Rendered(result, Outcome.failed, error=safe_error(exc))
    return Rendered(result, outcome, documents)


# --- records in files -----------------------------------------------------------------------------
def iter_validate(paths: Paths) -> Iterator[RecordResult]:
    """Schema validation only, one result per document, streaming."""
    for raw in read(paths):
        yield validate_document(raw)


def validate(paths: Paths) -> list[RecordResult]:
    """Schema validation only: ``invalid`` records carry one finding per schema error."""
    return list(iter_validate(paths))


def check(paths: Paths, *, profile: str | None = None, as_of: date | None = None,
          audit: PathLike | None = None) -> list[RecordResult]:
    """Validation plus completeness, for every document of ``paths`` as one run (notes see the plans
    of the run). ``profile``: a built-in name or a TOML file overriding the payer's profile; ``as_of``:
    the day review dates are judged against (default: today); ``audit``: an audit trail (file, or a
    folder holding ``audit.sqlite``; default ``DOCGEN_AUDIT``, else none) whose lock ledger is
    consulted, read-only: a record locked with other content gets a ``locked`` blocker, and an
    addendum's original must be locked there."""
    from .ledger.trail import Ledger  # noqa: PLC0415

    override = profile_override(profile)  # usage error before any work
    trail = audit_trail(audit)
    ledger = Ledger(trail) if trail is not None else None
    try:
        return judge_run(iter_validate(paths), as_of=as_of or date.today(), profile=override, ledger=ledger)
    finally:
        if ledger is not None:
            ledger.close()


def exit_code(results: Iterable[RecordResult | Rendered]) -> int:
    """0 when every record is complete (check) or rendered final (render), 1 otherwise."""
    for item in results:
        if isinstance(item, Rendered):
            if item.outcome is not Outcome.final:
                return 1
        elif item.status is not Status.complete:
            return 1
    return 0


def render(paths: Paths, out: PathLike, *, formats: Iterable[str] = FORMATS, profile: str | None = None,
           templates: PathLike | None = None, allow_draft: bool = False, as_of: date | None = None,
           audit: PathLike | None = None, sign_with: PathLike | None = None, passphrase: bytes | None = None,
           sign_role: str | None = None, trail: Any = None) -> list[Rendered]:
    """Check the records and write each to ``out/<record id>.docx`` and ``.pdf``. Complete records render
    final and are locked in the audit trail (``audit``, default ``DOCGEN_AUDIT``, else
    ``out/audit.sqlite``); incomplete ones are refused, or drafts with ``allow_draft``; invalid ones are
    never rendered; a record locked with other content is refused as ``locked``. With ``sign_with`` (a
    PKCS#12 file) every final PDF is signed before it is written. Every outcome is appended to the
    trail. Returns one :class:`~docgen.pipeline.Rendered` per record, in input order. ``trail``: an
    open :class:`docgen.ledger.trail.AuditTrail` to use instead of opening ``audit`` (used, not closed:
    a long-running process keeps one open, as a batch does, so that its hash chain is verified once and
    then from where it was vouched for, not whole at every call)."""
    from . import __version__  # noqa: PLC0415
    from .ledger.locks import changed, lock_of, locked_message  # noqa: PLC0415
    from .ledger.trail import AuditTrail  # noqa: PLC0415
    from .model.digest import content_hash  # noqa: PLC0415
    from .write import name_key, prepare_folder, repeated_id, safe_name, write_all  # noqa: PLC0415

    chosen = _formats(formats)
    override = profile_override(profile)
    renderer = _renderer(chosen, str(templates) if templates else None)
    signer = _load_key(sign_with, passphrase)
    folder = prepare_folder(Path(out), create=False)  # created when the first file is written
    own = trail is None
    if own:
        trail_file = output_trail(audit, folder)
        if trail_file.parent == folder:
            prepare_folder(folder)
        trail = AuditTrail(trail_file, __version__)
    inputs: list[str | None] = []  # the input hash of each document, for the audit trail

    def documents() -> Iterator[RecordResult]:
        for raw in read(paths):
            inputs.append(input_hash(raw.data) if raw.data is not None else None)
            yield validate_document(raw)

    rendered: list[Rendered] = []
    try:
        results = judge_run(documents(), as_of=as_of or date.today(), profile=override, ledger=trail)
        seen: dict[str, tuple[str, str]] = {}  # file name, case folded -> (record id, source) first seen
        for result, digest in zip(results, inputs, strict=True):
            item = Rendered(result, decide(result, allow_draft=allow_draft))
            first = seen.setdefault(name_key(result.id), (result.id, result.source)) if result.id else None
            if first is not None and first[1] != result.source:
                item.outcome, item.error = Outcome.failed, repeated_id(result.id or "", *first)
            elif item.outcome is Outcome.locked:
                item.error = next(f.message for f in result.findings if f.rule == "locked")
            if item.outcome in (Outcome.final, Outcome.draft):
                # made first, then locked (one transaction), then written: a record whose documents
                # cannot be made is not locked, and a record another run locked meanwhile with other
                # content gets nothing written
                try:
                    item.documents = produce(result, item.outcome, renderer, signer, sign_role)
                except Exception as exc:  # noqa: BLE001 - one bad record must not stop the others
                    item.outcome, item.error = Outcome.failed, safe_error(exc)
            if item.outcome is Outcome.final:
                content = content_hash(result.record)
                held = trail.lock(lock_of(result.record, content))
                if changed(held, content):
                    item.outcome, item.error, item.documents = Outcome.locked, locked_message(held), {}
            if item.outcome in (Outcome.final, Outcome.draft):
                files = {(folder / safe_name(result.record.id)).with_suffix(f".{fmt}"): blob
                         for fmt, blob in item.documents.items()}
                try:
                    write_all(files)
                    item.files = list(files)
                except Exception as exc:  # noqa: BLE001 - one bad record must not stop the others
                    item.outcome, item.error, item.documents = Outcome.failed, safe_error(exc), {}
            trail.record({"id": result.id, "kind": result.kind, "profile": result.profile,
                          "status": item.outcome.value, "input_sha256": digest,
                          "outputs": [_output(folder, fmt, blob, item.files)
                                      for fmt, blob in item.documents.items()] if item.files else []})
            rendered.append(item)
    finally:
        if own:
            trail.close()
    return rendered


def _output(folder: Path, fmt: str, blob: bytes, files: list[Path]) -> dict:
    import hashlib  # noqa: PLC0415

    path = next(p for p in files if p.suffix == f".{fmt}")
    return {"path": path.relative_to(folder).as_posix(), "sha256": hashlib.sha256(blob).hexdigest(),
            "bytes": len(blob)}


def _load_key(sign_with: PathLike | None, passphrase: bytes | None):
    """The signing key, loaded once before any work: a bad key or passphrase is a SigningError."""
    if sign_with is None:
        return None
    from .sign import load_key  # noqa: PLC0415

    return load_key(sign_with, passphrase)


def batch(inputs: Paths, out: PathLike, *, workers: int | None = None, formats: Iterable[str] = FORMATS,
          profile: str | None = None, templates: PathLike | None = None, allow_draft: bool = False,
          force: bool = False, as_of: date | None = None, scheduler: str | None = None,
          audit: PathLike | None = None, progress: Callable[[dict, int], None] | None = None,
          sign_with: PathLike | None = None, passphrase: bytes | None = None, sign_role: str | None = None):
    """Generate documents for every record of the inputs in parallel: worker processes (default one
    per core), or a Dask cluster when ``scheduler`` gives its address. Resumable and incremental; see
    :mod:`docgen.batch`. Every record goes through the same lifecycle as :func:`render`; ``audit`` as
    there. Returns a :class:`docgen.batch.Summary`."""
    from .batch import run_batch  # noqa: PLC0415

    chosen = _formats(formats)
    profile_override(profile)  # usage errors before any work: profile, style, key
    _renderer(chosen, str(templates) if templates else None)
    if sign_with is not None:
        _load_key(sign_with, passphrase)
        sign_with = os.path.abspath(sign_with)  # workers may run in another folder
    options: dict[str, Any] = dict(
        formats=chosen, profile=profile, templates=str(templates) if templates else None, allow_draft=allow_draft,
        force=force, as_of=as_of, audit=audit, progress=progress, sign_with=str(sign_with) if sign_with else None,
        passphrase=passphrase, sign_role=sign_role)
    if scheduler:
        from distributed import Client  # noqa: PLC0415

        with Client(scheduler) as client:
            executor = client.get_executor()
            executor._max_workers = sum(client.nthreads().values()) or 2  # noqa: SLF001 - bounds tasks in flight
            return run_batch(list(map(str, inputs)), out, executor, **options)
    from .batch import Workers, exit_with_parent  # noqa: PLC0415

    with Workers(max_workers=workers or os.cpu_count() or 1, initializer=exit_with_parent) as executor:
        return run_batch(list(map(str, inputs)), out, executor, **options)


# --- signatures, trails, packets, rules -----------------------------------------------------------
def _read(path: PathLike, error: type[Exception]) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise error(f"cannot read it: {exc.strerror or 'I/O error'}") from None


def sign(path: PathLike, out: PathLike, *, key: PathLike, passphrase: bytes | None = None,
         role: str | None = None, reason: str | None = None) -> tuple[str, str]:
    """Sign the PDF ``path`` with the PKCS#12 ``key`` and write it to ``out`` (which may be ``path``)
    atomically; nothing is written when signing fails (:class:`docgen.errors.SigningError`). Returns
    the signed field's name and the signer's common name."""
    from .errors import OutputError, SigningError  # noqa: PLC0415
    from .write import write_atomic  # noqa: PLC0415

    signer = _load_key(key, passphrase)
    try:
        signed, field = signer.sign_field(_read(path, SigningError), role=role, reason=reason)
    except SigningError as exc:
        raise SigningError(f"{path}: {exc}") from None
    try:
        write_atomic(Path(out), signed)
    except OSError as exc:
        raise OutputError(f"cannot write {out}: {exc.strerror or 'I/O error'}") from None
    return field, signer.signer_name


def verify(path: PathLike, *, trust: Iterable[PathLike] | None = None, password: bytes | None = None) -> list:
    """One :class:`docgen.sign.SignatureReport` per signature of the PDF ``path``, in signing order;
    ``trust``: CA certificates the signers must chain to (not checked without them); ``password``:
    an encrypted PDF's (a packet's). Raises :class:`docgen.errors.SigningError` when the file is not a
    readable PDF."""
    from .errors import SigningError  # noqa: PLC0415
    from .sign import verify_pdf  # noqa: PLC0415

    try:
        return verify_pdf(_read(path, SigningError), [Path(t) for t in trust] if trust else None, password=password)
    except SigningError as exc:
        raise SigningError(f"{path}: {exc}") from None


def audit(path: PathLike, *, record: str | None = None, since: date | None = None) -> list[dict]:
    """Events of an audit trail (a folder holding ``audit.sqlite``, or the file), oldest first."""
    from .ledger.trail import query  # noqa: PLC0415

    return query(trail_path(path), record=record, since=since)


def verify_trail(path: PathLike, *, head: str | None = None) -> ChainReport:
    """Recompute the hash chain of an audit trail (folder or file) and check its triggers, read-only.
    Returns a :class:`docgen.ledger.chain.ChainReport`: ``intact``, ``rows``, ``head`` (the last row's
    ``row_sha256``: keep it elsewhere), ``broken`` (the first broken link: table, seq, what), the
    ``missing_triggers``, and ``migrated`` (rows written before the chain, vouched for only from when it
    was added). ``head``: a head kept elsewhere; the trail is intact only if the chain passes through
    it (``kept_head_row``). ``docgen audit --verify``."""
    import re  # noqa: PLC0415

    from .errors import UsageError  # noqa: PLC0415
    from .ledger.trail import verify_trail as verify_chain  # noqa: PLC0415

    if head is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", head.strip()):
        raise UsageError("a head is a sha256: 64 hex digits", where="--head")
    return verify_chain(trail_path(path), head)


def trail_head(path: PathLike) -> ChainHead | None:
    """The head of an audit trail's hash chain as stored, not recomputed: a
    :class:`docgen.ledger.chain.ChainHead` (``rows``, ``head``), or None for a trail without rows or
    written before the chain. :func:`verify_trail` recomputes it."""
    from .ledger.trail import trail_head as stored_head  # noqa: PLC0415

    return stored_head(trail_path(path))


def locks(path: PathLike, *, record: str | None = None, since: date | None = None) -> list[dict]:
    """The lock ledger of an audit trail (folder or file), oldest first: record id, kind, client id,
    content ``sha256`` (what an addendum names), document date, signers' roles and dates, when locked,
    docgen version, OS user and host."""
    from .ledger.trail import query_locks  # noqa: PLC0415

    return query_locks(trail_path(path), record=record, since=since)


def packet(paths: Paths, out: PathLike, *, client: str, purpose: str, recipient: str,
           period_from: date | None = None, period_to: date | None = None, profile: str | None = None,
           allow_draft: bool = False, as_of: date | None = None, templates: PathLike | None = None,
           password: bytes | None = None, sign_with: PathLike | None = None, passphrase: bytes | None = None,
           sign_role: str | None = None, fhir: bool = False, cdex: PathLike | None = None):
    """One insurer packet for ``client`` written atomically to ``out`` (see :mod:`docgen.packet`):
    encrypted with AES-256 when ``password`` is given, then signed with ``sign_with``. ``as_of`` is the
    disclosure date (default: today). Raises :class:`docgen.errors.PacketRefused` (nothing written),
    :class:`docgen.errors.PacketError` or another :class:`~docgen.errors.DocgenError`. Returns the
    :class:`docgen.packet.Packet` (its ``pdf`` as written). ``fhir``: attach the records as a FHIR R4
    Bundle too (``records.fhir.json``); ``cdex``: also write the packet as a Da Vinci CDex
    ``$submit-attachment`` Parameters resource (JSON) to this file (claim and authorization packets)."""
    from .errors import OutputError, PacketError  # noqa: PLC0415
    from .packet import build_packet, finish  # noqa: PLC0415
    from .write import write_all  # noqa: PLC0415

    signer = _load_key(sign_with, passphrase)  # a bad key stops before any work
    if cdex is not None and purpose not in ("claim", "authorization"):
        raise PacketError(f"a CDex attachment goes with a claim or an authorization, not '{purpose}'", where="--cdex")
    built = build_packet(paths, client, purpose, recipient, period_from, period_to, profile, allow_draft, as_of,
                         templates, fhir=fhir)
    built.pdf = finish(built.pdf, password, signer, sign_role)
    files = {Path(out): built.pdf}
    if cdex is not None:
        import json  # noqa: PLC0415

        from .packet.cdex import submit_attachment  # noqa: PLC0415

        files[Path(cdex)] = (json.dumps(submit_attachment(built, built.pdf), indent=2, ensure_ascii=False)
                             + "\n").encode("utf-8")
    try:
        write_all(files)
    except OSError as exc:
        raise OutputError(f"cannot write {out}: {exc.strerror or 'I/O error'}") from None
    return built


def inspect(path: PathLike, *, password: bytes | None = None) -> dict:
    """What a packet PDF holds: documents, attachments, signatures and encryption (see
    :func:`docgen.packet.inspect.inspect_packet`). Raises :class:`docgen.errors.PacketError` (an
    unreadable or unsafe PDF, exit 2), and :class:`docgen.errors.NotAPacket` for a PDF that is not a
    docgen packet (exit 1)."""
    from .errors import NotAPacket, PacketError  # noqa: PLC0415
    from .packet.inspect import inspect_packet  # noqa: PLC0415

    try:
        return inspect_packet(_read(path, PacketError), password)
    except (PacketError, NotAPacket) as exc:
        raise type(exc)(f"{path}: {exc}") from None


@dataclass(frozen=True)
class RuleInfo:
    """One completeness rule as a profile sets it. ``source``: what it rests on, as one line of
    citations; ``keys``: the bibliography keys they cite; ``references``: with ``rules(sources=True)``,
    those entries in full (citation, URL, what the source is), else None."""

    rule: str
    applies_to: tuple[str, ...]
    enabled: bool
    severity: str
    params: dict[str, Any]
    source: str
    summary: str
    keys: tuple[str, ...] = ()
    references: tuple[Any, ...] | None = None  # docgen.check.sources.Reference

    def as_dict(self) -> dict[str, Any]:
        out = {"rule": self.rule, "applies_to": list(self.applies_to), "enabled": self.enabled,
               "severity": self.severity, "params": self.params, "source": self.source, "keys": list(self.keys),
               "summary": self.summary}
        if self.references is not None:
            out["references"] = [ref.as_dict() for ref in self.references]
        return out


def rules(*, profile: str | None = None, sources: bool = False) -> tuple[str, str, list[RuleInfo]]:
    """Every completeness rule with its severity, parameters and source as ``profile`` (a built-in name
    or a TOML file; default ``default``) sets them; with ``sources``, each rule's bibliography entries
    (full citation and URL) too. Returns the profile's name, its description and the rules."""
    from .check import RULES, load_profile  # noqa: PLC0415
    from .check.sources import cite, keys_of, references  # noqa: PLC0415

    chosen = load_profile(profile or "default")
    listed = []
    for rule in RULES.values():
        cited = chosen.source(rule.id, rule.source)
        listed.append(RuleInfo(
            rule.id, tuple(sorted(rule.applies_to)), chosen.enabled(rule.id, rule.enabled_by_default),
            chosen.severity(rule.id, rule.severity).value, chosen.params(rule.id, rule.defaults), cite(cited),
            rule.summary, tuple(keys_of(cited)), tuple(references(cited)) if sources else None))
    return chosen.name, chosen.description, listed


# --- FHIR R4 (issue #15) ---------------------------------------------------------------------------
@dataclass
class FhirExport:
    """What ``docgen fhir export`` made: the Bundles (one per client, :class:`docgen.fhir.export.Exported`),
    the files written, and the records not exported because they are invalid (their check results)."""

    bundles: list
    files: list[Path]
    invalid: list[RecordResult]
    found: int
    left_out: list[str]  # records not exported, one line each (id and why: a psychotherapy note, an addendum...)


def _fhir_pdf(purposes: dict, templates: PathLike | None = None, signer: Any = None, sign_role: str | None = None):
    """Renders a record's final PDF for a DocumentReference, judged on its own date (same input, same
    bytes); with a purpose, only the sections the purpose needs (as packets do); with ``signer``, signed
    (``sign_role``: the field) as ``docgen render --sign-with`` signs. None when not final."""
    import dataclasses  # noqa: PLC0415

    from .compose import compose  # noqa: PLC0415
    from .fhir.export import stored  # noqa: PLC0415
    from .model.digest import content_hash  # noqa: PLC0415
    from .render import metadata_for  # noqa: PLC0415

    renderer = _renderer(("pdf",), str(templates) if templates else None)

    def render_pdf(record, _data: dict) -> bytes | None:
        data = stored(record.model_dump(mode="json", exclude_defaults=True))
        data.pop("psychotherapy_notes", None)
        result = judge(_in_memory(data), as_of=None)
        if decide(result, allow_draft=False) is not Outcome.final:
            return None
        rec = result.record
        doc = compose(rec, result.findings, result.profile or "", signers=result.signers)
        use = purposes.get("use")
        if use is not None:
            keep = set(use(rec).sections(rec.kind))
            doc = dataclasses.replace(doc, sections=tuple(s for s in doc.sections if s.key in keep))
        meta = metadata_for(rec, result.profile or "", content_hash(rec))
        pdf = renderer.pdf.render(doc, meta, rec.service_date.strftime("%Y%m%d"))
        return signer.sign(pdf, role=sign_role) if signer is not None else pdf

    return render_pdf


def fhir_export(paths: Paths, out: PathLike, *, client: str | None = None, with_documents: bool = False,
                ndjson: bool = False, purpose: str | None = None, sign_with: PathLike | None = None,
                passphrase: bytes | None = None, sign_role: str | None = None) -> FhirExport:
    """The records under ``paths`` as FHIR R4 (US Core where a profile exists): one Bundle (type
    ``collection``) per client, written to ``out`` when one client is exported (``client``, or inputs of
    one client), else to ``out/<client id>.json`` each; ``ndjson``: one resource a line instead
    (``.ndjson``). ``with_documents``: each final record's PDF as a DocumentReference. ``purpose``:
    minimum necessary as packets apply it. Psychotherapy notes are never exported. See
    :mod:`docgen.fhir`. ``sign_with`` (a PKCS#12 file; ``passphrase``, ``sign_role``): the attached PDFs
    are signed, as ``render --sign-with`` signs them (their hash in the DocumentReference is the signed
    file's); without it they are unsigned and the same bytes at every export."""
    from .check import load_profile, profile_of  # noqa: PLC0415
    from .errors import OutputError, UsageError  # noqa: PLC0415
    from .fhir import export_paths  # noqa: PLC0415
    from .fhir.export import to_json, to_ndjson  # noqa: PLC0415
    from .packet.policy import is_part2, load_policy, record_json  # noqa: PLC0415
    from .write import name_key, prepare_folder, safe_name, write_all  # noqa: PLC0415

    policies: dict[str, Any] = {}

    def policy_of(record):
        profile = profile_of(record)
        if profile.name not in policies:
            policies[profile.name] = load_policy(profile)
        return policies[profile.name]

    purposes: dict[str, Any] = {}
    if purpose is not None:
        load_policy(load_profile("default")).purpose(purpose)  # an unknown purpose: a usage error before any work
        purposes["use"] = lambda record: policy_of(record).purpose(purpose)
    if sign_with is not None and not with_documents:
        raise UsageError("signs the attached PDFs: goes with --with-documents", where="--sign-with")
    signer = _load_key(sign_with, passphrase)  # a bad key: a usage error before any work
    documents = _fhir_pdf(purposes, signer=signer, sign_role=sign_role) if with_documents else None
    target = Path(out)
    if target.exists() and not target.is_dir() and not os.access(target, os.W_OK):
        raise OutputError(f"cannot write {target}: permission denied")
    run = export_paths(paths, client=client, documents=documents,
                       shape=(lambda r: record_json(r, purposes["use"](r))) if purpose is not None else None,
                       part2=lambda r: is_part2(r, policy_of(r)))
    suffix = ".ndjson" if ndjson else ".json"
    encode = to_ndjson if ndjson else to_json
    bundles = [b for b in run.bundles if b.records]  # a client whose every record is left out gets no file
    files: dict[Path, bytes] = {}
    if len(bundles) == 1 and (client is not None or not target.is_dir()):
        if target.is_dir():
            raise OutputError(f"{target} is a folder; one client's Bundle goes to a file")
        prepare_folder(target.parent, create=False)
        files[target] = encode(bundles[0])
    elif bundles:
        prepare_folder(target)
        seen: set[str] = set()
        for exported in bundles:
            key = name_key(exported.client)
            if key in seen:
                raise OutputError(f"client ids that differ only in case give one file name: {exported.client}")
            seen.add(key)
            files[target / f"{safe_name(exported.client)}{suffix}"] = encode(exported)
    try:
        write_all(files)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or 'I/O error'}") from None
    return FhirExport(bundles, list(files), run.invalid, run.found, [line for b in run.bundles for line in b.left_out])


def fhir_import(paths: Paths, out: PathLike) -> Any:
    """FHIR R4 Bundles (collection, searchset, transaction...) or NDJSON, as EHRs export them, as docgen
    records: ``out/<record id>.yaml`` each (a plan per CarePlan, a note per Encounter), ready for
    ``docgen check``. Returns a :class:`docgen.fhir.ingest.ImportResult` (``records``, ``report``: what
    was assumed, left out or found, per resource; ``findings``: imported totals that disagree with
    their items) with ``files``. Bad input is a :class:`docgen.errors.LoadError`; nothing is written."""
    from .errors import LoadError, OutputError  # noqa: PLC0415
    from .fhir.ingest import import_inputs, yaml_text  # noqa: PLC0415
    from .write import name_key, prepare_folder, safe_name, write_all  # noqa: PLC0415

    folder = prepare_folder(Path(out), create=False)
    result = import_inputs([Path(p) for p in paths])
    files: dict[Path, bytes] = {}
    seen: dict[str, str] = {}
    for item in result.records:
        key = name_key(item.id)
        if key in seen:
            raise LoadError(f"{item.origin}: record id {item.id} is also the id of {seen[key]}; nothing written")
        seen[key] = item.origin
        files[folder / f"{safe_name(item.id)}.yaml"] = yaml_text(item).encode("utf-8")
    if files:
        prepare_folder(folder)
    try:
        write_all(files, durable=False)  # each file atomic; flushed once for all, as a batch does
        if files:
            os.sync()
    except OSError as exc:
        raise OutputError(f"cannot write {folder}: {exc.strerror or 'I/O error'}") from None
    result.files = list(files)
    return result


# --- for the people who feed docgen: the record format as a schema and a skeleton (issue #11) ------
def schema(kind: str | None = None) -> dict:
    """The JSON Schema (draft 2020-12) of a record of ``kind`` (``treatment_plan``, ``progress_note``
    or ``addendum``), or of any record (a union told apart by ``kind``) when ``kind`` is None; made
    by pydantic from the models. Raises :class:`docgen.errors.UsageError` for an unknown kind."""
    from .model.schema import record_schema  # noqa: PLC0415

    return record_schema(kind)


def new(kind: str) -> str:
    """A commented YAML skeleton of a record of ``kind`` to start from: required fields hold
    placeholders that pass validation, optional ones are commented out with their meaning. Raises
    :class:`docgen.errors.UsageError` for an unknown kind."""
    from .model.skeleton import skeleton  # noqa: PLC0415

    return skeleton(kind)


__all__ = ["FORMATS", "check_record", "render_record", "iter_validate", "validate", "check", "exit_code",
           "render", "batch", "sign", "verify", "audit", "verify_trail", "trail_head", "locks", "packet", "inspect",
           "rules", "RuleInfo", "Rendered", "schema", "new", "fhir_export", "fhir_import", "FhirExport"]
