"""The `docgen` command: a thin layer over :mod:`docgen.api`, verb for verb.

Exit codes for every command: 0 all good (warnings allowed), 1 some record invalid or incomplete
(or refused, failed, locked; no record found), 2 usage error (bad option, missing path, unknown or
broken profile, style, template, key or audit trail). Every docgen error reaches the user through one
boundary (:class:`DocgenGroup`): one line on stderr, its exit code, never a traceback. Heavy libraries
are imported inside the commands so that `docgen --help` stays fast.
"""
from __future__ import annotations

import gc
import json
import sys

import click

from . import __version__
from .errors import DocgenError, UsageError
from .sign import ROLES  # no pyHanko: docgen.sign imports it only to sign or verify
from .wording import counted


class DocgenGroup(click.Group):
    """The one place where docgen's errors become a message and an exit code: ``docgen COMMAND:
    [OPTION: ]MESSAGE`` on stderr (plus one line per detail, e.g. a packet's refusals)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DocgenError as exc:
            for line in exc.details():
                click.echo(line, err=True)
            where = f"{exc.where}: " if exc.where else ""
            group = f"{ctx.info_name} " if ctx.parent is not None else ""  # a command group: docgen fhir export
            click.echo(f"docgen {group}{ctx.invoked_subcommand or ''}: {where}{exc}".replace("docgen : ", "docgen: "),
                       err=True)
            ctx.exit(exc.exit_code)

class _LongLived:
    """The import of docgen's stack (pydantic and the record models, the rules, the loaders: some 30,000
    objects that live as long as the process, and no garbage) with the cyclic garbage collector paused,
    then left out of its later passes (``gc.freeze``): collecting while they were made, and walking
    them again in each full collection, took 20-30 ms of a one-record run (issue #17). Only where this
    is the process's first import of :mod:`docgen.api`: a process that imported it already (a test
    session, an application) is left as it is. The collector comes back however the import ends."""

    def __enter__(self) -> None:
        self.paused = "docgen.api" not in sys.modules and gc.isenabled()
        if self.paused:
            gc.disable()

    def __exit__(self, *exc_info: object) -> None:
        if self.paused:
            gc.freeze()
            gc.enable()


STATUS_MARK = {"complete": "OK", "incomplete": "INCOMPLETE", "invalid": "INVALID"}


def _profile_option(fn):
    return click.option(
        "--profile", "profile", metavar="NAME|FILE", default=None,
        help="Rules profile: a built-in name (default, medicare, ny-medicaid, tx-medicaid, ca-medi-cal, mn-245g) or "
             "a .toml file. Default: the one the record's payer (or agency) picks.",
    )(fn)


def _format_option(fn):
    return click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                        show_default=True, help="Report format.")(fn)


def _passphrase_option(fn):
    return click.option("--passphrase-file", "passphrase_file", type=click.Path(exists=True, dir_okay=False),
                        default=None, help="File holding the key's passphrase (one trailing newline is ignored).")(fn)


def _sign_options(fn):
    """--sign-with, --passphrase-file, --sign-role for render and batch."""
    fn = click.option("--sign-role", "sign_role", type=click.Choice(ROLES), default=None,
                      help="Field to sign (sig_<role>). Default: the first empty one, clinician first.")(fn)
    fn = _passphrase_option(fn)
    return click.option("--sign-with", "sign_with", type=click.Path(exists=True, dir_okay=False), default=None,
                        metavar="SIGNER.p12", help="Sign every final PDF with this PKCS#12 key before it is "
                        "written (drafts are never signed).")(fn)


def _needs_key(sign_with, passphrase_file, sign_role) -> None:
    if not sign_with and (passphrase_file or sign_role):
        raise click.UsageError("--passphrase-file and --sign-role go with --sign-with")


def _allow_empty_option(fn):
    return click.option("--allow-empty", is_flag=True,
                        help="Exit 0 when the inputs hold no record (default: a warning and exit 1, so that a "
                             "broken export does not pass unnoticed).")(fn)


def _no_records(count: int, allow_empty: bool) -> bool:
    """Warn when the inputs held no record; True when that makes the run fail."""
    if count:
        return False
    click.echo("docgen: warning: no records found in the inputs", err=True)
    return not allow_empty


def _day(value):
    return value.date() if value is not None else None


def _read_passphrase(path: str | None, option: str = "--passphrase-file") -> bytes | None:
    """The secret in a file, without one trailing newline; never echoed anywhere."""
    from .sign import read_secret  # noqa: PLC0415

    return read_secret(path, option)


def _paths_argument(fn):
    return click.argument("paths", nargs=-1, required=True,
                          type=click.Path(exists=True, dir_okay=True, readable=True))(fn)


def _report(results, fmt: str, schema_only: bool = False) -> None:
    """The records' verdicts: a JSON document, or one line a record with its findings and a count."""
    if fmt == "json":
        click.echo(json.dumps({"records": [r.as_dict() for r in results]}, indent=2, ensure_ascii=False))
        return
    from rich.console import Console  # noqa: PLC0415
    from rich.markup import escape  # noqa: PLC0415 - ids, paths and messages are not markup
    from rich.table import Table  # noqa: PLC0415

    console = Console(highlight=False, soft_wrap=False, emoji=False)
    counts = {"complete": 0, "incomplete": 0, "invalid": 0}
    for result in results:
        status = result.status.value
        counts[status] += 1
        style = {"complete": "green", "incomplete": "yellow", "invalid": "red"}[status]
        mark = ("VALID" if status != "invalid" else "INVALID") if schema_only else STATUS_MARK[status]
        title = (f"[{style if not schema_only or status == 'invalid' else 'green'}]{mark}[/] "
                 f"{escape(result.id or '(no id)')}  {escape(result.kind or '?')}  "
                 f"client {escape(result.client or '?')}"
                 f"{'  profile ' + escape(result.profile) if result.profile else ''}  [dim]{escape(result.where)}[/]")
        console.print(title, soft_wrap=True)
        if result.findings:
            table = Table(show_edge=False, box=None, pad_edge=False, padding=(0, 1, 0, 2))
            for column in ("severity", "rule", "field", "message"):
                table.add_column(column, overflow="fold")
            for f in result.findings:
                sev = "[red]blocker[/]" if f.severity.value == "blocker" else "[yellow]warning[/]"
                table.add_row(sev, escape(f.rule), escape(f.path), escape(f.message))
            console.print(table)
    total = sum(counts.values())
    if schema_only:
        console.print(f"{counted(total, 'record')}: {total - counts['invalid']} valid, {counts['invalid']} invalid")
    else:
        console.print(f"{counted(total, 'record')}: {counts['complete']} complete, {counts['incomplete']} incomplete, "
                      f"{counts['invalid']} invalid")


def _errors_to_stderr(results) -> None:
    """One line per problem on stderr for invalid records: file, record id, field, message."""
    for result in results:
        if result.status.value != "invalid":
            continue
        for f in result.findings:
            click.echo(f"{result.where}: record {result.id or '(no id)'}: {f.path}: {f.message}", err=True)


@click.group(cls=DocgenGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="docgen")
def main() -> None:
    """Behavioral-health treatment plans and progress notes: validate records, check them for
    completeness against payer profiles, render them.

    Environment: DOCGEN_AUDIT (audit trail), DOCGEN_CACHE (cache folder), DOCGEN_TEMPLATES
    (templates folder); see the README's settings table."""


def _as_of_option(fn):
    return click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), default=None,
                        help="Judge review dates as of this day (YYYY-MM-DD). Default: today.")(fn)


def _audit_option(text: str):
    def decorate(fn):
        return click.option("--audit", "audit", type=click.Path(), default=None, metavar="FILE",
                            help=text + " Default: $DOCGEN_AUDIT.")(fn)
    return decorate


def _templates_option(fn):
    return click.option("--templates", "templates", type=click.Path(exists=True, file_okay=False), default=None,
                        help="Folder with the agency's Word templates and pdf-style.toml "
                             "(default: $DOCGEN_TEMPLATES, else the shipped ones).")(fn)


@main.command()
@_paths_argument
@_format_option
@_allow_empty_option
def validate(paths, fmt, allow_empty):
    """Check records against the schema only (JSON, YAML, JSONL, CSV files or folders)."""
    with _LongLived():
        from . import api  # noqa: PLC0415

    results = api.validate(paths)
    _errors_to_stderr(results)
    _report(results, fmt, schema_only=True)
    empty = _no_records(len(results), allow_empty)
    sys.exit(1 if empty or any(r.record is None for r in results) else 0)


@main.command()
@_paths_argument
@_profile_option
@_format_option
@_as_of_option
@_audit_option("Audit trail whose lock ledger to consult (read-only): a record locked with other content is "
               "reported (rule 'locked'), an addendum's original must be locked there.")
@_allow_empty_option
def check(paths, profile, fmt, as_of, audit, allow_empty):
    """Validate records and check them for completeness (consent, risk, signatures, reviews, CPT time...)."""
    with _LongLived():
        from . import api  # noqa: PLC0415

    results = api.check(paths, profile=profile, as_of=_day(as_of), audit=audit)
    _errors_to_stderr(results)
    _report(results, fmt)
    empty = _no_records(len(results), allow_empty)
    sys.exit(1 if empty else api.exit_code(results))


@main.command()
@click.option("--profile", "profile", metavar="NAME|FILE", default=None,
              help="Profile whose settings to list: a built-in name (default, medicare, ny-medicaid, tx-medicaid, "
                   "ca-medi-cal, mn-245g) or a .toml file. Default: default.")
@click.option("--sources", "sources", is_flag=True, default=False,
              help="Also print each source's full citation and URL (the bibliography entries the rule cites).")
@_format_option
def rules(profile, sources, fmt):
    """List the completeness rules, with the severity, parameters and source a profile gives them."""
    with _LongLived():
        from . import api  # noqa: PLC0415

    name, description, listed = api.rules(profile=profile, sources=sources)
    if fmt == "json":
        click.echo(json.dumps({"profile": name, "rules": [r.as_dict() for r in listed]}, indent=2))
        return
    click.echo(f"profile {name}: {description}")
    for row in listed:
        state = "" if row.enabled else " (off)"
        click.echo(f"\n{row.rule} [{row.severity}]{state} - {', '.join(row.applies_to)}")
        click.echo(f"  {row.summary}")
        if row.params:
            click.echo("  params: " + ", ".join(f"{k}={v}" for k, v in row.params.items()))
        click.echo(f"  source: {row.source}")
        for ref in row.references or ():
            click.echo(f"    [{ref.key}] {ref.citation}")
            click.echo(f"      {ref.what}: {ref.url}")
            for url in ref.see_also:
                click.echo(f"      also: {url}")
            if ref.note:
                click.echo(f"      note: {ref.note}")


def _formats(value: str) -> tuple[str, ...]:
    """``--format docx,pdf`` as the API's ``formats`` (which checks them: a UsageError naming --format)."""
    return tuple(part.strip().lower() for part in value.split(",") if part.strip())


@main.command()
@_paths_argument
@click.option("--out", "out", required=True, type=click.Path(),
              help="Folder for the documents (created if missing, readable by its owner only).")
@click.option("--format", "fmt", default="docx,pdf", show_default=True, help="docx, pdf or docx,pdf.")
@_profile_option
@_templates_option
@click.option("--allow-draft", is_flag=True, help="Render incomplete records as drafts (DRAFT watermark, "
              "missing items listed) instead of refusing them.")
@_as_of_option
@_audit_option("Audit trail and lock ledger (default: OUT/audit.sqlite). Point every run of an agency at one.")
@_sign_options
@_allow_empty_option
def render(paths, out, fmt, profile, templates, allow_draft, as_of, audit, sign_with, passphrase_file, sign_role,
           allow_empty):
    """Render records to DOCX and PDF: complete ones final (and locked), incomplete ones refused (or drafts).

    A record rendered final before (same id, in the same audit trail) with other content is refused
    as locked: changes go in an addendum."""
    with _LongLived():
        from . import api  # noqa: PLC0415

    formats = _formats(fmt)
    _needs_key(sign_with, passphrase_file, sign_role)
    rendered = api.render(paths, out, formats=formats, profile=profile, templates=templates,
                          allow_draft=allow_draft, as_of=_day(as_of), audit=audit, sign_with=sign_with,
                          passphrase=_read_passphrase(passphrase_file), sign_role=sign_role)
    _errors_to_stderr([r.result for r in rendered])
    for item in rendered:
        r = item.result
        if item.outcome.value == "refused":
            for f in r.blockers:
                click.echo(f"{r.where}: record {r.id}: refused: {f.path}: {f.message} [{f.rule}]", err=True)
        elif item.outcome.value == "failed":
            click.echo(f"{r.where}: record {r.id}: failed: {item.error}", err=True)
        elif item.outcome.value == "locked":
            click.echo(f"{r.where}: record {r.id}: locked: {item.error}", err=True)
    _render_summary(rendered)
    if sign_with and "pdf" in formats:
        signed = sum(1 for item in rendered if item.outcome.value == "final")
        click.echo(f"{counted(signed, 'final PDF')} signed with {click.format_filename(sign_with)}; "
                   "drafts are never signed")
    empty = _no_records(len(rendered), allow_empty)
    sys.exit(1 if empty else api.exit_code(rendered))


def _render_summary(rendered) -> None:
    from rich.console import Console  # noqa: PLC0415
    from rich.markup import escape  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    table = Table(title="docgen render", show_lines=False)
    for column in ("record", "kind", "client", "profile", "outcome", "blockers", "warnings", "written"):
        table.add_column(column, overflow="fold")
    counts: dict[str, int] = {}
    for item in rendered:
        r = item.result
        counts[item.outcome.value] = counts.get(item.outcome.value, 0) + 1
        style = {"final": "green", "draft": "yellow"}.get(item.outcome.value, "red")
        kind = {"treatment_plan": "plan", "progress_note": "note", "addendum": "addendum"}.get(r.kind or "", "?")
        table.add_row(escape(r.id or "(no id)"), kind, escape(r.client or "?"), escape(r.profile or ""),
                      f"[{style}]{item.outcome.value}[/]", str(len(r.blockers)) if r.record is not None else "-",
                      str(len(r.warnings)), " ".join(p.suffix[1:] for p in item.files))
    console = Console(highlight=False, emoji=False)
    console.width = max(console.width, 100)
    console.print(table)
    console.print(", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no records")


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=True, readable=True))
@click.option("--out", "out", required=True, type=click.Path(),
              help="Output folder: DIR/<client id>/<kind>-<date>-<record id>.<ext>, manifest, audit trail.")
@click.option("--workers", type=click.IntRange(1, 256), default=None, help="Worker processes (default: one per core).")
@click.option("--format", "fmt", default="docx,pdf", show_default=True, help="docx, pdf or docx,pdf.")
@_profile_option
@_templates_option
@click.option("--allow-draft", is_flag=True, help="Render incomplete records as drafts instead of refusing them.")
@click.option("--force", is_flag=True, help="Redo every record, even those unchanged since the last run.")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="Run on a Dask distributed cluster (e.g. tcp://10.0.0.5:8786) instead of local processes.")
@_audit_option("SQLite audit trail and lock ledger (default: OUT/audit.sqlite). Point every run of an agency at one.")
@_as_of_option
@_sign_options
@_allow_empty_option
def batch(inputs, out, workers, fmt, profile, templates, allow_draft, force, scheduler, audit, as_of,
          sign_with, passphrase_file, sign_role, allow_empty):
    """Generate documents for thousands of records: parallel, resumable, with a manifest and an audit trail.

    INPUTS are folders, JSON / YAML / JSONL files and CSV files of progress notes (one row a session;
    layout in the README). One bad record never stops the batch; exit code 1 when any record
    did not produce its documents (refused, invalid, failed, or locked: finalized and signed before
    with other content). Addenda are processed after the other records."""
    with _LongLived():
        from . import api  # noqa: PLC0415
    from .settings import progress_bar  # noqa: PLC0415

    formats = _formats(fmt)
    _needs_key(sign_with, passphrase_file, sign_role)
    passphrase = _read_passphrase(passphrase_file)
    progress, bar = _progress(progress_bar(sys.stderr.isatty()))
    with bar:
        summary = api.batch(inputs, out, workers=workers, formats=formats, profile=profile, templates=templates,
                            allow_draft=allow_draft, force=force, as_of=_day(as_of), scheduler=scheduler,
                            audit=audit, progress=progress, sign_with=sign_with, passphrase=passphrase,
                            sign_role=sign_role)
    for row in summary.rows:
        first = (row.get("findings") or [{}])[0]
        why = row.get("error") or (f"{first.get('path')}: {first.get('message')} [{first.get('rule')}]"
                                   if first else "")
        more = len(row.get("findings") or []) - 1
        click.echo(f"{row['source']}: record {row.get('id') or '(no id)'}: {row['status']}: {why}"
                   + (f" (+{more} more)" if more > 0 else ""), err=True)
    if summary.workers_lost:
        click.echo(f"docgen: warning: {_lost_workers(summary.workers_lost)} during the batch (killed by the system, "
                   "perhaps out of memory): the records held were tried again one at a time", err=True)
    _batch_summary(summary)
    if sign_with and "pdf" in formats:
        click.echo(f"final PDFs signed with {click.format_filename(sign_with)}; drafts are never signed")
    empty = _no_records(summary.records, allow_empty)
    sys.exit(0 if summary.ok and not empty else 1)


def _lost_workers(times: int) -> str:
    return "a worker process stopped" if times == 1 else f"worker processes stopped {times} times"


def _progress(show: bool):
    """A rich progress bar on a terminal; nothing in pipes and CI."""
    import contextlib  # noqa: PLC0415

    if not show:
        return None, contextlib.nullcontext()
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn  # noqa: PLC0415

    # on stderr, the terminal that was tested: `docgen batch ... > summary.txt` still shows it
    bar = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn(), transient=True, console=Console(stderr=True, emoji=False))
    state: dict = {}

    def update(row, total):
        if "task" not in state:
            state["task"] = bar.add_task("records", total=total)
        bar.advance(state["task"])

    return update, bar


def _batch_summary(summary) -> None:
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    table = Table(title="docgen batch")
    names = ("final", "draft", "refused", "invalid", "skipped", "failed", "locked")
    for name in (*names, "records", "seconds", "records/s"):
        table.add_column(name, justify="right")
    c = summary.counts
    table.add_row(*(str(c[k]) for k in names), str(summary.records), f"{summary.seconds:.1f}", f"{summary.rate:.1f}")
    console = Console(highlight=False, emoji=False)
    console.width = max(console.width, 100)
    console.print(table)
    # on a line of its own, whole: what an agency keeps elsewhere to compare with later (docgen audit --verify --head)
    click.echo(f"audit trail head: {summary.head or 'none'} ({summary.chain_rows} rows)")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--key", "key", required=True, type=click.Path(exists=True, dir_okay=False), metavar="SIGNER.p12",
              help="PKCS#12 file (.p12/.pfx) with the signer's key and certificate.")
@_passphrase_option
@click.option("--role", type=click.Choice(ROLES), default=None,
              help="Sign the field sig_<role> (created when missing). Default: the first empty signature field, "
                   "clinician, supervisor, psychiatrist, guardian, client, other.")
@click.option("--reason", default=None, help='Reason stored in the signature (default: "Signed as <Role>").')
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="Signed PDF (may be FILE itself: replaced atomically).")
def sign(file, key, passphrase_file, role, reason, out):
    """Sign a rendered PDF with a certificate (PAdES B-B, as an incremental update: earlier signatures
    stay valid)."""
    with _LongLived():
        from . import api  # noqa: PLC0415

    field, signer = api.sign(file, out, key=key, passphrase=_read_passphrase(passphrase_file), role=role,
                             reason=reason)
    click.echo(f"{click.format_filename(out)}: signed by {signer} in field {field}")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--trust", "trust", multiple=True, type=click.Path(exists=True, dir_okay=False), metavar="CA.pem",
              help="CA certificate (PEM or DER) the signers must chain to; repeatable. "
                   "Without it trust is not checked.")
@_format_option
@click.option("--password-file", "password_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="File holding an encrypted PDF's password (one trailing newline is ignored).")
def verify(file, trust, fmt, password_file):
    """Check the signatures of a PDF: intact, unchanged since, and (with --trust) trusted.
    Exit 0 when all are, 1 otherwise (or no signature), 2 when the file cannot be read."""
    with _LongLived():
        from . import api  # noqa: PLC0415
    from .sign import verdict  # noqa: PLC0415

    reports = api.verify(file, trust=list(trust), password=_read_passphrase(password_file, "--password-file"))
    ok = verdict(reports)
    if fmt == "json":
        click.echo(json.dumps({"file": file, "ok": ok, "trust_checked": bool(trust),
                               "signatures": [r.as_dict() for r in reports]}, indent=2, ensure_ascii=False))
    else:
        _verify_text(file, reports, ok, bool(trust))
    sys.exit(0 if ok else 1)


def _verify_text(file: str, reports, ok: bool, trust_checked: bool) -> None:
    from rich.console import Console  # noqa: PLC0415
    from rich.markup import escape  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    console = Console(highlight=False, emoji=False)
    console.width = max(console.width, 120)
    if reports:
        table = Table(title=f"signatures in {escape(file)}")
        for name in ("field", "role", "signer", "signed at (claimed)", "intact", "modified after", "trust", "problem"):
            table.add_column(name, overflow="fold")
        for r in reports:
            table.add_row(escape(r.field), escape(r.role or "-"), escape(r.signer),
                          r.signing_time.strftime("%Y-%m-%d %H:%M:%S %Z") if r.signing_time else "-",
                          "[green]yes[/]" if r.intact else "[red]NO[/]",
                          "[red]YES[/]" if r.modified_after else "[green]no[/]",
                          {"trusted": "[green]trusted[/]", "untrusted": "[red]untrusted[/]"}.get(r.trust, r.trust),
                          escape(r.problem))
        console.print(table)
    if not reports:
        console.print(f"[red]NOT VALID[/] {escape(file)}: no signatures")
    elif ok:
        console.print(f"[green]VALID[/] {escape(file)}: {counted(len(reports), 'signature')}"
                      + ("" if trust_checked else " (trust not checked: no --trust)"))
    else:
        bad = sum(1 for r in reports if not r.ok)
        console.print(f"[red]NOT VALID[/] {escape(file)}: {bad} of {counted(len(reports), 'signature')} with a problem")


@main.command()
@click.argument("path", type=click.Path(exists=True))
@click.option("--record", default=None, help="Only this record id.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Only events on or after this day.")
@click.option("--verify", "check_chain", is_flag=True,
              help="Recompute the trail's hash chain and check its triggers instead: exit 0 when intact, 1 when not "
                   "(the first broken link is named).")
@click.option("--head", "kept_head", metavar="SHA256", default=None,
              help="With --verify: a head kept elsewhere (from an earlier batch or audit), which the chain must "
                   "still pass through.")
@_format_option
def audit(path, record, since, check_chain, kept_head, fmt):
    """Query an audit trail (an output folder, or the SQLite file): generation events, and the locks
    of records rendered final, with the content sha256 an addendum names; the head of its hash chain.
    With --verify, recompute the chain instead."""
    with _LongLived():
        from . import api  # noqa: PLC0415
    from .ledger.trail import locks_text, rows_text  # noqa: PLC0415

    if kept_head and not check_chain:
        raise click.UsageError("--head goes with --verify")
    if check_chain:
        if record or since:
            raise click.UsageError("--verify checks the whole trail: --record and --since do not apply")
        report = api.verify_trail(path, head=kept_head)
        _chain_report(report, fmt)
        sys.exit(0 if report.intact else 1)
    events = api.audit(path, record=record, since=_day(since))
    locks = api.locks(path, record=record, since=_day(since))
    chain = api.trail_head(path)
    if fmt == "json":
        click.echo(json.dumps({"events": events, "locks": locks,
                               "chain": chain._asdict() if chain else None}, indent=2))
        return
    from rich.console import Console  # noqa: PLC0415
    from rich.markup import escape  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    table = Table(title=f"audit trail ({len(events)} events)")
    for name in ("when (UTC)", "record", "kind", "outcome", "profile", "user", "host", "input sha256", "files"):
        table.add_column(name, overflow="fold")
    for values in rows_text(events):
        table.add_row(*(escape(v) for v in values))
    console = Console(highlight=False, emoji=False)
    console.width = max(console.width, 120)
    console.print(table)
    if locks:
        # one lock a paragraph, the sha256 whole on a line of its own: it is what an addendum names
        click.echo(f"\nlocks ({len(locks)}): finalized and signed; changes go in an addendum naming id and sha256")
        for at, record_id, kind, client, dated, signed, digest, user in locks_text(locks):
            click.echo(f"{record_id}  {kind}  client {client}  dated {dated}  signed: {signed or 'none'}  "
                       f"locked {at} by {user}\n  sha256 {digest}")
    if chain:
        click.echo(f"\naudit trail head: {chain.head} ({chain.rows} rows; as stored: --verify recomputes it)")
    else:
        click.echo("\naudit trail head: none (no rows, or written before the hash chain: the next render or batch "
                   "writing to it adds the chain)")


def _chain_report(report, fmt: str) -> None:
    """``docgen audit --verify``: intact with its head, or the first broken link and missing triggers."""
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    if report.intact:
        click.echo(f"chain intact: {report.rows} rows, " + (f"head {report.head}" if report.head else "no head yet"))
    for line in report.problems():
        click.echo(line)
    if report.migrated:
        click.echo(f"rows 1-{report.migrated} were written before the chain and chained as they were when it was "
                   "added: vouched for from then on")
    if report.kept_head_row is not None:
        click.echo(f"head {report.kept_head} kept elsewhere is row {report.kept_head_row} of {report.rows}")


def _password_option(fn):
    return click.option("--password-file", "password_file", type=click.Path(exists=True, dir_okay=False),
                        default=None, help="File holding the packet's password (one trailing newline is ignored).")(fn)


@main.command()
@_paths_argument
@click.option("--client", "client", required=True, metavar="ID", help="Client id: only this client's records.")
@click.option("--from", "period_from", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First day of the period (default: the client's earliest record).")
@click.option("--to", "period_to", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Last day of the period (default: the disclosure date).")
@click.option("--purpose", required=True, metavar="PURPOSE",
              help="claim, authorization, audit, continuity or release (the profile's [packet.purposes]).")
@click.option("--recipient", required=True, metavar="NAME", help="Who receives the packet (must match the consents).")
@_profile_option
@click.option("--templates", "templates", type=click.Path(exists=True, file_okay=False), default=None,
              help="Folder with pdf-style.toml (default: $DOCGEN_TEMPLATES, else the shipped one).")
@click.option("--allow-draft", is_flag=True, help="Include incomplete records as drafts instead of refusing.")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Disclosure date (YYYY-MM-DD): consents, notices and checks are judged on it. Default: today.")
@_password_option
@click.option("--sign-with", "sign_with", type=click.Path(exists=True, dir_okay=False), default=None,
              metavar="SIGNER.p12", help="Sign the packet PDF with this PKCS#12 key (after encryption).")
@_passphrase_option
@click.option("--sign-role", "sign_role", type=click.Choice(ROLES), default=None,
              help="Field to sign (sig_<role>). Default: the first empty one, clinician first.")
@click.option("--fhir", "fhir", is_flag=True,
              help="Attach the records as a FHIR R4 Bundle too (records.fhir.json, next to records.json).")
@click.option("--cdex", "cdex", type=click.Path(dir_okay=False), default=None, metavar="FILE.json",
              help="Also write the packet as a Da Vinci CDex $submit-attachment Parameters resource (claim, "
                   "authorization).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), metavar="PACKET.pdf")
def packet(paths, client, period_from, period_to, purpose, recipient, profile, templates, allow_draft, as_of,
           password_file, sign_with, passphrase_file, sign_role, fhir, cdex, out):
    """One verifiable PDF for an insurer: plan(s) in force, notes of the period, cover with index and
    medical-necessity summary, bookmarks, JSON attachments. Exit 0 written, 1 refused (one line per
    reason on stderr), 2 usage or unreadable input. Nothing is written when refused."""
    with _LongLived():
        from . import api  # noqa: PLC0415

    _needs_key(sign_with, passphrase_file, sign_role)
    password = _read_passphrase(password_file, "--password-file")
    if password_file and not password:
        raise UsageError("the password file is empty", where="--password-file")
    built = api.packet(paths, out, client=client, purpose=purpose, recipient=recipient,
                       period_from=_day(period_from), period_to=_day(period_to), profile=profile,
                       allow_draft=allow_draft, as_of=_day(as_of), templates=templates, password=password,
                       sign_with=sign_with, passphrase=_read_passphrase(passphrase_file), sign_role=sign_role,
                       fhir=fhir, cdex=cdex)
    m = built.manifest
    extras = ", AES-256" if password else ""
    extras += ", signed" if sign_with else ""
    click.echo(f"{click.format_filename(out)}: {counted(len(m['documents']), 'document')}, "
               f"{counted(m['total_pages'], 'page')}, "
               f"purpose {m['purpose']}, client {m['client']}{extras}"
               + (f"; withheld {len(m['withheld'])}" if m["withheld"] else ""))


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@_password_option
@_format_option
def inspect(file, password_file, fmt):
    """List a packet's documents, attachments, signatures and encryption. Exit 0, 1 when it is
    encrypted and no password was given (or is not a docgen packet), 2 when it cannot be read (or
    the password is wrong)."""
    with _LongLived():
        from . import api  # noqa: PLC0415

    report = api.inspect(file, password=_read_passphrase(password_file, "--password-file"))
    if fmt == "json":
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        enc = report["encryption"]
        click.echo(f"{click.format_filename(file)}: "
                   + (f"encrypted {enc['algorithm']} (V{enc['V']} R{enc['R']}), password required"
                      if enc["encrypted"] else "not encrypted"))
        if not report["opened"]:
            click.echo("give --password-file to list its contents")
        else:
            m = report["manifest"] or {}
            if m:
                click.echo(f"packet {m.get('packet_id')}: client {m.get('client')}, purpose {m.get('purpose')}, "
                           f"recipient {m.get('recipient')}, disclosed {m.get('disclosure_date')}, "
                           f"{counted(report['pages'], 'page')}")
            click.echo("documents:")
            for d in report["documents"]:
                click.echo(f"  p.{d['first_page']:<4} {d['id']:<14} {d['kind']:<15} {d['date']}  "
                           f"{counted(d['pages'], 'page')}  "
                           f"{d['status']}  sha256 {d['content_sha256'][:16]}...")
            if not report["documents"]:
                for o in report["outline"]:
                    click.echo(f"  p.{o['page'] if o['page'] is not None else '?':<4} {o['title']}")
            click.echo("attachments:")
            for a in report["attachments"]:
                click.echo(f"  {a['name']}  {a['size']} bytes  sha256 {a['sha256']}")
            click.echo("signatures:" + ("" if report["signatures"] else " none"))
            for sig in report["signatures"]:
                click.echo(f"  {sig['field']}  {sig['signer']}  intact={'yes' if sig['intact'] else 'NO'}  "
                           f"modified_after={'YES' if sig['modified_after'] else 'no'}  {sig['problem']}")
    sys.exit(0 if report["opened"] else 1)


# --- for the people who feed docgen: the record format (issue #11) ------------------------------------
#: Record kinds (docgen.model.MODELS; spelled out here so that `docgen --help` does not import pydantic).
RECORD_KINDS = ("treatment_plan", "progress_note", "addendum")


@main.command()
@click.argument("kind", required=False, type=click.Choice(RECORD_KINDS), metavar="[KIND]")
def schema(kind):
    """Print the JSON Schema of a record of KIND (treatment_plan, progress_note, addendum), or of any
    record without KIND: what an export must produce, e.g. `docgen schema treatment_plan > plan.schema.json`."""
    with _LongLived():
        from . import api  # noqa: PLC0415

    click.echo(json.dumps(api.schema(kind), indent=2, sort_keys=True, ensure_ascii=True))


@main.command()
@click.argument("kind", type=click.Choice(RECORD_KINDS), metavar="KIND")
def new(kind):
    """Print a commented YAML skeleton of a record of KIND (treatment_plan, progress_note, addendum) to
    start from: every required field with a placeholder that passes `docgen validate`, the optional
    ones commented out with their meaning."""
    with _LongLived():
        from . import api  # noqa: PLC0415

    click.echo(api.new(kind), nl=False)


# --- FHIR R4 (issue #15) ------------------------------------------------------------------------------
@main.group(cls=DocgenGroup)
def fhir() -> None:
    """FHIR R4 in and out: `docgen fhir export` (records -> US Core Bundles) and `docgen fhir import`
    (an EHR's Bundles or NDJSON -> docgen records). Needs the `fhir` extra: pip install "docgen[fhir]"."""


@fhir.command("export")
@_paths_argument
@click.option("--out", "out", required=True, type=click.Path(), metavar="FILE|DIR",
              help="The Bundle's file when one client is exported, else a folder of <client id>.json.")
@click.option("--client", "client", default=None, metavar="ID", help="Only this client's records.")
@click.option("--with-documents", is_flag=True,
              help="Attach each final record's PDF as a DocumentReference (rendered in memory).")
@click.option("--ndjson", is_flag=True, help="One resource a line (NDJSON) instead of a Bundle.")
@click.option("--purpose", default=None, metavar="PURPOSE",
              help="Minimum necessary for this purpose, as packets (claim, authorization, audit, continuity, release).")
@_sign_options
@_allow_empty_option
def fhir_export(paths, out, client, with_documents, ndjson, purpose, sign_with, passphrase_file, sign_role,
                allow_empty):
    """Export records as FHIR R4 (US Core): one Bundle per client. Psychotherapy notes are never
    exported. Exit 0 all exported, 1 some record invalid (not exported) or none found, 2 usage."""
    with _LongLived():
        from . import api  # noqa: PLC0415

    _needs_key(sign_with, passphrase_file, sign_role)
    made = api.fhir_export(paths, out, client=client, with_documents=with_documents, ndjson=ndjson,
                           purpose=purpose, sign_with=sign_with,
                           passphrase=_read_passphrase(passphrase_file) if sign_with else None, sign_role=sign_role)
    _errors_to_stderr(made.invalid)
    for line in made.left_out:
        click.echo(f"docgen: left out: {line}", err=True)
    for path, exported in zip(made.files, made.bundles, strict=False):
        resources = len(exported.bundle["entry"])
        click.echo(f"{click.format_filename(str(path))}: client {exported.client}, "
                   f"{counted(len(exported.records), 'record')}, "
                   f"{counted(resources, 'resource')}")
    empty = _no_records(sum(len(b.records) for b in made.bundles) + len(made.invalid), allow_empty)
    sys.exit(1 if made.invalid or empty else 0)


@fhir.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, readable=True),
                metavar="FILE...")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), metavar="DIR",
              help="Folder for the records (<record id>.yaml each).")
@_allow_empty_option
def fhir_import(paths, out, allow_empty):
    """Import FHIR R4 Bundles or NDJSON (an EHR's export) as docgen records, one YAML file per record,
    ready for `docgen check`. Prints what was assumed, left out or found, per resource. Exit 0, 1 when
    an imported total disagrees with its items (a finding) or no record was made, 2 bad input (nothing
    written)."""
    with _LongLived():
        from . import api  # noqa: PLC0415

    result = api.fhir_import(paths, out)
    for line in result.report.lines:
        click.echo(line.text())
    for path, item in zip(result.files, result.records, strict=True):
        click.echo(f"{click.format_filename(str(path))}: {item.kind} {item.id}, client {item.client}, "
                   f"from {item.origin}")
    empty = _no_records(len(result.records), allow_empty)
    sys.exit(1 if result.findings or empty else 0)


# --- the service (issue #16): docgen.serve, a stage after the API ------------------------------------
@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--data", "data", required=True, type=click.Path(file_okay=False), metavar="DIR",
              help="The service's folder: audit trail, job table, batch outputs, webhook secret (created 0700).")
@click.option("--workers", type=click.IntRange(1, 256), default=None,
              help="Worker processes for requests, and for each batch (default: one per core, at most 4).")
@click.option("--keys", "keys", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Key file made by `docgen keys add` (default: DIR/keys.json).")
@click.option("--no-auth", is_flag=True, help="No keys: anyone who can connect is served. Only on a loopback host.")
@click.option("--max-body", "max_body", type=click.IntRange(1, 1024), default=32, show_default=True, metavar="MIB",
              help="Largest request body, in MiB (larger: 413).")
@click.option("--timeout", type=click.FloatRange(0.1, 3600), default=60, show_default=True, metavar="SECONDS",
              help="Time limit of one request's work, counted from its start (not the queue).")
@click.option("--callback-host", "callback_hosts", multiple=True, metavar="HOST",
              help="A host a batch's callback_url may name though it is not a public address (repeatable).")
@click.option("--sign-with", "sign_with", type=click.Path(exists=True, dir_okay=False), default=None,
              metavar="SIGNER.p12", help="The key requests asking sign=true have their final PDFs signed with.")
@_passphrase_option
def serve(host, port, data, workers, keys, no_auth, max_body, timeout, callback_hosts, sign_with, passphrase_file):
    """Serve docgen over HTTP (check, render, batches, packets, and a page at /): the CLI's verdicts and
    bytes, with keys, limits and an audit trail. Needs the [serve] extra."""
    from . import serve as service  # noqa: PLC0415

    _needs_key(sign_with, passphrase_file, None)
    service.serve(host=host, port=port, data=data, workers=workers, keys=keys, no_auth=no_auth,
                  max_body=max_body * 1024 * 1024, timeout=timeout, callback_hosts=tuple(callback_hosts),
                  sign_with=sign_with, passphrase=_read_passphrase(passphrase_file) if sign_with else None)


@main.group()
def keys():
    """Keys of `docgen serve`: add (printed once, stored as a salted hash), list, revoke."""


def _keys_option(fn):
    return click.option("--keys", "keys_file", required=True, type=click.Path(dir_okay=False), metavar="FILE",
                        help="The key file (created owner-only).")(fn)


@keys.command("add")
@click.argument("name")
@_keys_option
@click.option("--scope", default=None, metavar="SCOPES",
              help="What the key may do: check,render,batch,packet,fhir (default: all).")
def keys_add(name, keys_file, scope):
    """Make a key NAME: printed once on stdout, only its salted hash is stored."""
    from . import serve as service  # noqa: PLC0415

    key = service.keys_add(name, keys=keys_file, scope=scope)
    click.echo(key)
    click.echo(f"key {name} added to {click.format_filename(keys_file)}: keep it now, it is not shown again",
               err=True)


@keys.command("list")
@_keys_option
def keys_list(keys_file):
    """List the keys: name, scopes, created (never the keys)."""
    from . import serve as service  # noqa: PLC0415

    for key in service.keys_list(keys=keys_file):
        click.echo(f"{key.name}  {','.join(key.scopes)}  created {key.created}")


@keys.command("revoke")
@click.argument("name")
@_keys_option
def keys_revoke(name, keys_file):
    """Remove the key NAME: a running service refuses it at once."""
    from . import serve as service  # noqa: PLC0415

    service.keys_revoke(name, keys=keys_file)
    click.echo(f"key {name} revoked")


if __name__ == "__main__":  # pragma: no cover
    main()
