"""The `docgen` command: a thin layer over :mod:`docgen.api`, verb for verb.

Exit codes for every command: 0 all good (warnings allowed), 1 some record invalid or incomplete,
2 usage error (bad option, missing path). Heavy libraries are imported inside the commands so that
`docgen --help` stays fast.
"""
from __future__ import annotations

import json
import sys
from datetime import date

import click

from . import __version__

STATUS_MARK = {"complete": "OK", "incomplete": "INCOMPLETE", "invalid": "INVALID"}


def _profile_option(fn):
    return click.option(
        "--profile", "profile", metavar="NAME|FILE", default=None,
        help="Rules profile: a built-in name (default, medicare, ny-medicaid, tx-medicaid) or a .toml file. "
             "Default: the one the record's payer picks.",
    )(fn)


def _format_option(fn):
    return click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                        show_default=True, help="Report format.")(fn)


def _paths_argument(fn):
    return click.argument("paths", nargs=-1, required=True,
                          type=click.Path(exists=True, dir_okay=True, readable=True))(fn)


def _report(results, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps({"records": [r.as_dict() for r in results]}, indent=2, ensure_ascii=False))
        return
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    console = Console(highlight=False, soft_wrap=False)
    counts = {"complete": 0, "incomplete": 0, "invalid": 0}
    for result in results:
        status = result.status.value
        counts[status] += 1
        style = {"complete": "green", "incomplete": "yellow", "invalid": "red"}[status]
        title = (f"[{style}]{STATUS_MARK[status]}[/] {result.id or '(no id)'}  "
                 f"{result.kind or '?'}  client {result.client or '?'}"
                 f"{'  profile ' + result.profile if result.profile else ''}  [dim]{result.where}[/]")
        console.print(title, soft_wrap=True)
        if result.findings:
            table = Table(show_edge=False, box=None, pad_edge=False, padding=(0, 1, 0, 2))
            for column in ("severity", "rule", "field", "message"):
                table.add_column(column, overflow="fold")
            for f in result.findings:
                sev = "[red]blocker[/]" if f.severity.value == "blocker" else "[yellow]warning[/]"
                table.add_row(sev, f.rule, f.path, f.message)
            console.print(table)
    total = sum(counts.values())
    console.print(f"{total} record(s): {counts['complete']} complete, {counts['incomplete']} incomplete, "
                  f"{counts['invalid']} invalid")


def _errors_to_stderr(results) -> None:
    """One line per problem on stderr for invalid records: file, record id, field, message."""
    for result in results:
        if result.status.value != "invalid":
            continue
        for f in result.findings:
            click.echo(f"{result.where}: record {result.id or '(no id)'}: {f.path}: {f.message}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="docgen")
def main() -> None:
    """Behavioral-health treatment plans and progress notes: validate records, check them for
    completeness against payer profiles, render them."""


@main.command()
@_paths_argument
@_format_option
def validate(paths, fmt):
    """Check records against the schema only (JSON, YAML, JSONL files or folders)."""
    from . import api  # noqa: PLC0415

    results = api.validate(paths)
    _errors_to_stderr(results)
    _report(results, fmt)
    sys.exit(api.exit_code(results))


@main.command()
@_paths_argument
@_profile_option
@_format_option
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Judge review dates as of this day (YYYY-MM-DD). Default: today.")
def check(paths, profile, fmt, as_of):
    """Validate records and check them for completeness (consent, risk, signatures, reviews, CPT time...)."""
    from . import api  # noqa: PLC0415
    from .check import ProfileError  # noqa: PLC0415

    try:
        results = api.check(paths, profile=profile, as_of=as_of.date() if as_of else None)
    except ProfileError as exc:
        raise click.BadParameter(str(exc), param_hint="--profile") from None
    _errors_to_stderr(results)
    _report(results, fmt)
    sys.exit(api.exit_code(results))


@main.command()
@_profile_option
@_format_option
def rules(profile, fmt):
    """List the completeness rules, with the parameters a profile gives them."""
    from .check import RULES, ProfileError, load_profile  # noqa: PLC0415

    try:
        chosen = load_profile(profile or "default")
    except ProfileError as exc:
        raise click.BadParameter(str(exc), param_hint="--profile") from None
    rows = []
    for rule in RULES.values():
        rows.append({
            "rule": rule.id, "applies_to": sorted(rule.applies_to),
            "enabled": chosen.enabled(rule.id, rule.enabled_by_default),
            "severity": chosen.severity(rule.id, rule.severity).value,
            "params": chosen.params(rule.id, rule.defaults),
            "source": chosen.settings(rule.id).get("source", rule.source), "summary": rule.summary,
        })
    if fmt == "json":
        click.echo(json.dumps({"profile": chosen.name, "rules": rows}, indent=2))
        return
    click.echo(f"profile {chosen.name}: {chosen.description}")
    for row in rows:
        state = "" if row["enabled"] else " (off)"
        click.echo(f"\n{row['rule']} [{row['severity']}]{state} - {', '.join(row['applies_to'])}")
        click.echo(f"  {row['summary']}")
        if row["params"]:
            click.echo("  params: " + ", ".join(f"{k}={v}" for k, v in row["params"].items()))
        click.echo(f"  source: {row['source']}")


def _today() -> date:  # pragma: no cover - seam for tests
    return date.today()


if __name__ == "__main__":  # pragma: no cover
    main()
