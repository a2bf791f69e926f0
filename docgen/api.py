"""The Python API. The CLI is a thin layer over these functions, verb for verb.

    >>> from docgen import api
    >>> results = api.check(["fixtures/"], as_of=date(2026, 11, 24))
    >>> [(r.id, r.status.value) for r in results]
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from datetime import date

from .findings import RecordResult, Status
from .load import read
from .model.validate import validate_document

Paths = Iterable[str | os.PathLike]


def iter_validate(paths: Paths) -> Iterator[RecordResult]:
    """Schema validation only, one result per document, streaming."""
    for raw in read(paths):
        yield validate_document(raw)


def validate(paths: Paths) -> list[RecordResult]:
    """Schema validation only: ``invalid`` records carry one finding per schema error."""
    return list(iter_validate(paths))


def check(paths: Paths, profile: str | None = None, as_of: date | None = None,
          audit: str | os.PathLike | None = None) -> list[RecordResult]:
    """Validation plus completeness. ``profile``: a built-in name or a TOML path overriding the payer's
    profile; ``as_of``: the day review dates are judged against (default: today); ``audit``: an audit
    trail (file, or a folder holding ``audit.sqlite``) whose lock ledger is consulted: a record locked
    with other content gets a ``locked`` blocker, and an addendum's original must be locked there."""
    from .check import check_results  # noqa: PLC0415 - keeps `docgen validate` light

    if audit is None:
        return check_results(iter_validate(paths), as_of or date.today(), profile)
    from .batch.audit import Ledger  # noqa: PLC0415

    ledger = Ledger(_trail(audit))
    try:
        return check_results(iter_validate(paths), as_of or date.today(), profile, ledger)
    finally:
        ledger.close()


def _trail(path: str | os.PathLike):
    """An audit trail named by its file, or by the folder holding ``audit.sqlite``."""
    from pathlib import Path  # noqa: PLC0415

    from .batch import AUDIT  # noqa: PLC0415

    target = Path(path)
    return target / AUDIT if target.is_dir() else target


def exit_code(results: Iterable[RecordResult]) -> int:
    """0 when every record is complete (warnings allowed), 1 otherwise."""
    return 0 if all(r.status is Status.complete for r in results) else 1


def render(paths: Paths, out: str | os.PathLike, formats: tuple[str, ...] = ("docx", "pdf"),
           profile: str | None = None, templates: str | os.PathLike | None = None, allow_draft: bool = False,
           as_of: date | None = None, audit_path: str | os.PathLike | None = None,
           sign_with: str | os.PathLike | None = None, passphrase: bytes | None = None,
           sign_role: str | None = None) -> list:
    """Check the records and render each to DOCX and/or PDF in ``out``. Complete records render as
    final; incomplete ones are refused, or rendered as drafts with ``allow_draft``; invalid ones are
    never rendered. Returns one :class:`docgen.render.Rendered` per record.

    With ``sign_with`` (a PKCS#12 file, loaded once: a bad key raises
    :class:`docgen.sign.SigningError` before anything is rendered) every final PDF is signed before
    it is written; drafts are never signed.

    Every record's outcome is appended to the audit trail ``audit_path`` (default ``out/audit.sqlite``);
    a final render locks the record there (see :mod:`docgen.lock`), and a record locked with other
    content is refused with outcome ``locked``, nothing written."""
    from pathlib import Path  # noqa: PLC0415

    from . import __version__  # noqa: PLC0415
    from .batch import AUDIT, input_hash  # noqa: PLC0415
    from .batch.audit import AuditTrail  # noqa: PLC0415
    from .check import check_results, load_profile  # noqa: PLC0415
    from .lock import render_locked  # noqa: PLC0415
    from .render import Outcome, Rendered, Renderer  # noqa: PLC0415
    from .write import name_key, repeated_id  # noqa: PLC0415

    if profile:
        load_profile(profile)  # a bad --profile is a usage error before anything is written
    signer = None
    if sign_with is not None:
        from .sign import load_key  # noqa: PLC0415

        signer = load_key(sign_with, passphrase)
    out = Path(out)
    renderer = Renderer(out, tuple(formats), Path(templates) if templates else None, allow_draft,
                        signer=signer, sign_role=sign_role)
    inputs: list[str | None] = []  # the input hash of each document, for the audit trail

    def documents() -> Iterator[RecordResult]:
        for raw in read(paths):
            inputs.append(input_hash(raw.data) if raw.data is not None else None)
            yield validate_document(raw)

    trail = AuditTrail(Path(audit_path) if audit_path else out / AUDIT, __version__)
    try:
        results = check_results(documents(), as_of or date.today(), profile, trail)
        rendered = []
        seen: dict[str, tuple[str, str]] = {}  # file name, case folded -> (record id, source) first seen
        for result, digest in zip(results, inputs):
            first = seen.setdefault(name_key(result.id), (result.id, result.source)) if result.id else None
            if first is not None and first[1] != result.source:
                item = Rendered(result, Outcome.failed, error=repeated_id(result.id, *first))
            else:
                item = render_locked(renderer, trail, result)
            trail.record({"id": result.id, "kind": result.kind, "profile": result.profile,
                          "status": _TRAIL_STATUS.get(item.outcome.value, item.outcome.value),
                          "input_sha256": digest, "outputs": [_output(out, path) for path in item.files]})
            rendered.append(item)
    finally:
        trail.close()
    return rendered


#: The audit trail's words for render outcomes (the batch's: a final document is "complete").
_TRAIL_STATUS = {"final": "complete"}


def _output(out, path) -> dict:
    import hashlib  # noqa: PLC0415

    data = path.read_bytes()
    try:
        name = path.relative_to(out).as_posix()
    except ValueError:
        name = path.name
    return {"path": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def batch(inputs: Paths, out: str | os.PathLike, workers: int | None = None, formats: tuple[str, ...] = ("docx", "pdf"),
          profile: str | None = None, templates: str | os.PathLike | None = None, allow_draft: bool = False,
          force: bool = False, as_of: date | None = None, scheduler: str | None = None,
          audit_path: str | os.PathLike | None = None, progress=None, sign_with: str | os.PathLike | None = None,
          passphrase: bytes | None = None, sign_role: str | None = None):
    """Generate documents for every record of the inputs in parallel: worker processes (default one
    per core), or a Dask cluster when ``scheduler`` gives its address. Resumable and incremental; see
    :mod:`docgen.batch`. ``sign_with``: sign every final PDF as in :func:`render` (the key is checked
    here once, then loaded once by each worker). Returns a :class:`docgen.batch.Summary`."""
    from .batch import run_batch  # noqa: PLC0415

    if sign_with is not None:
        from .sign import load_key  # noqa: PLC0415

        load_key(sign_with, passphrase)  # a bad key or passphrase stops the batch before any work
        sign_with = os.path.abspath(sign_with)  # workers may run in another folder
    options = dict(formats=tuple(formats), profile=profile, templates=str(templates) if templates else None,
                   allow_draft=allow_draft, force=force, as_of=as_of, audit_path=audit_path, progress=progress,
                   sign_with=str(sign_with) if sign_with else None, passphrase=passphrase, sign_role=sign_role)
    if scheduler:
        from distributed import Client  # noqa: PLC0415

        with Client(scheduler) as client:
            executor = client.get_executor()
            executor._max_workers = sum(client.nthreads().values()) or 2  # bounds tasks in flight
            return run_batch(list(map(str, inputs)), out, executor, **options)
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

    from .batch import exit_with_parent  # noqa: PLC0415

    with ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1, initializer=exit_with_parent) as executor:
        return run_batch(list(map(str, inputs)), out, executor, **options)


def sign(path: str | os.PathLike, out: str | os.PathLike, key: str | os.PathLike, passphrase: bytes | None = None,
         role: str | None = None, reason: str | None = None) -> tuple[str, str]:
    """Sign the PDF ``path`` with the PKCS#12 ``key`` and write it to ``out`` (which may be ``path``)
    atomically; nothing is written when signing fails (:class:`docgen.sign.SigningError`). Returns
    the signed field's name and the signer's common name."""
    from pathlib import Path  # noqa: PLC0415

    from .sign import SigningError, load_key  # noqa: PLC0415
    from .write import write_atomic  # noqa: PLC0415

    signer = load_key(key, passphrase)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SigningError(f"cannot read it: {exc.strerror or 'I/O error'}") from None
    signed, field = signer.sign_field(data, role=role, reason=reason)
    write_atomic(Path(out), signed)
    return field, signer.signer_name


def verify(path: str | os.PathLike, trust: Iterable[str | os.PathLike] | None = None,
           password: bytes | None = None) -> list:
    """One :class:`docgen.sign.SignatureReport` per signature of the PDF ``path``, in signing order;
    ``trust``: CA certificates the signers must chain to (not checked without them); ``password``:
    an encrypted PDF's (a packet's). Raises :class:`docgen.sign.SigningError` when the file is not a
    readable PDF."""
    from pathlib import Path  # noqa: PLC0415

    from .sign import SigningError, verify_pdf  # noqa: PLC0415

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SigningError(f"cannot read it: {exc.strerror or 'I/O error'}") from None
    return verify_pdf(data, [Path(t) for t in trust] if trust else None, password=password)


def audit(path: str | os.PathLike, record: str | None = None, since: date | None = None) -> list[dict]:
    """Events of an audit trail (a batch's output folder or the SQLite file), oldest first."""
    from .batch.audit import query  # noqa: PLC0415

    return query(_trail(path), record=record, since=since)


def locks(path: str | os.PathLike, record: str | None = None, since: date | None = None) -> list[dict]:
    """The lock ledger of an audit trail (output folder or SQLite file), oldest first: record id, kind,
    client id, content ``sha256`` (what an addendum names), document date, signers' roles and dates,
    when locked, docgen version, OS user and host."""
    from .batch.audit import query_locks  # noqa: PLC0415

    return query_locks(_trail(path), record=record, since=since)


def packet(paths: Paths, out: str | os.PathLike, client: str, purpose: str, recipient: str,
           period_from: date | None = None, period_to: date | None = None, profile: str | None = None,
           allow_draft: bool = False, as_of: date | None = None, templates: str | os.PathLike | None = None,
           password: bytes | None = None, sign_with: str | os.PathLike | None = None,
           passphrase: bytes | None = None, sign_role: str | None = None):
    """One insurer packet for ``client`` written atomically to ``out`` (see :mod:`docgen.packet`):
    encrypted with AES-256 when ``password`` is given, then signed with ``sign_with``. ``as_of`` is the
    disclosure date (default: today). Raises :class:`docgen.packet.PacketRefused` (nothing written),
    :class:`docgen.packet.PacketError` or :class:`docgen.sign.SigningError`. Returns the
    :class:`docgen.packet.Packet` (its ``pdf`` as written)."""
    from pathlib import Path  # noqa: PLC0415

    from .packet import build_packet, finish  # noqa: PLC0415
    from .write import write_atomic  # noqa: PLC0415

    signer = None
    if sign_with is not None:
        from .sign import load_key  # noqa: PLC0415

        signer = load_key(sign_with, passphrase)  # a bad key stops before any work
    built = build_packet(paths, client, purpose, recipient, period_from, period_to, profile, allow_draft, as_of,
                         templates)
    built.pdf = finish(built.pdf, password, signer, sign_role)
    write_atomic(Path(out), built.pdf)
    return built


def inspect(path: str | os.PathLike, password: bytes | None = None) -> dict:
    """What a packet PDF holds: documents, attachments, signatures and encryption (see
    :func:`docgen.packet.inspect.inspect_packet`). Raises :class:`docgen.packet.PacketError`, and
    :class:`docgen.errors.NotAPacket` for a PDF that is not a docgen packet."""
    from pathlib import Path  # noqa: PLC0415

    from .packet import PacketError  # noqa: PLC0415
    from .packet.inspect import inspect_packet  # noqa: PLC0415

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise PacketError(f"cannot read it: {exc.strerror or 'I/O error'}") from None
    return inspect_packet(data, password)
