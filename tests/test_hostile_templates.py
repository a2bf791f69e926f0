"""Hostile Word templates (issue #12, "Code execution" and "Hostile templates"): a template is rendered in
Jinja's sandbox, so one that reaches for Python internals fails its record with one line and runs
nothing; a template archive beyond sane limits (entries, size, compression ratio), with a DTD in a part or
with an entry name outside the package is refused before it is inflated or parsed.

Every attack is a copy of a shipped template with one thing changed, rendered with ``--templates``."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from docgen.render import DEFAULT_TEMPLATES
from render_helpers import FIXTURES, documents_in, invoke

PLAN = FIXTURES / "plans" / "plan-adult-mdd-complete.yaml"  # TP-1001, complete: renders final
AS_OF = "2026-11-24"
DOCGEN = Path(sys.executable).with_name("docgen")


def _parts(template: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(template) as package:
        return [(info.filename, package.read(info)) for info in package.infolist()]


def _write(template: Path, parts: list[tuple[str, bytes]]) -> None:
    with zipfile.ZipFile(template, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in parts:
            package.writestr(name, data)


def agency_copy(tmp_path: Path, payload: str = "") -> Path:
    """A copy of the shipped templates whose treatment plan prints ``payload`` in its title's run text."""
    folder = tmp_path / "agency-templates"
    shutil.copytree(DEFAULT_TEMPLATES, folder)
    if payload:
        plan = folder / "treatment_plan.docx"
        parts = _parts(plan)
        title = b"<w:t>{{ doc.title }}</w:t>"
        for index, (name, data) in enumerate(parts):
            if name == "word/document.xml":
                assert data.count(title) == 1
                parts[index] = (name, data.replace(title, b"<w:t>{{ doc.title }}" + payload.encode() + b"</w:t>"))
        _write(plan, parts)
    return folder


def cli(*args: object, cache: Path) -> subprocess.CompletedProcess:
    """The real command line, in a process of its own."""
    command = [str(DOCGEN)] if DOCGEN.exists() else [sys.executable, "-c", "from docgen.cli import main; main()"]
    env = {**os.environ, "DOCGEN_CACHE": str(cache)}
    return subprocess.run(command + [str(a) for a in args], capture_output=True, text=True, env=env, timeout=120)


def failed_line(stderr: str, reason: str) -> str:
    """The one stderr line of TP-1001's failure, which must name the template and the reason."""
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if "record TP-1001: failed:" in line]
    assert len(lines) == 1, stderr
    assert f"failed: {reason}" in lines[0], lines[0]
    return lines[0]


# --- code execution -----------------------------------------------------------------------------
def test_a_template_running_a_shell_command_fails_its_record_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    templates = agency_copy(tmp_path, "{{ cycler.__init__.__globals__.os.system('touch %s') }}" % marker)
    out = tmp_path / "out"
    done = cli("render", PLAN, "--out", out, "--templates", templates, "--as-of", AS_OF, cache=tmp_path / "cache")
    assert not marker.exists()
    assert done.returncode == 1, done.stderr
    line = failed_line(done.stderr, "unsafe template treatment_plan.docx: ")
    assert "'__init__'" in line
    assert documents_in(out) == []  # nothing written but the audit trail, which records the failure


@pytest.mark.parametrize("payload", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{% for x in ().__class__.__base__.__subclasses__() %}{{ x }}{% endfor %}",
    "{{ doc.sections.append(1) }}",  # the immutable sandbox: no changing the document while rendering
    "{{ doc.title|attr('__class__') }}",
    "{{ doc.title.format.__globals__ }}",
    "{{ lipsum.__globals__['os'] }}",
])
def test_templates_reaching_for_python_internals_fail_with_one_line(tmp_path, payload):
    templates = agency_copy(tmp_path, payload)
    out = tmp_path / "out"
    result = invoke("render", PLAN, "--out", out, "--templates", templates, "--as-of", AS_OF)
    assert result.exit_code == 1
    failed_line(result.stderr, "unsafe template treatment_plan.docx: ")
    assert documents_in(out) == []


def test_an_unsafe_attribute_that_is_never_used_still_fails(tmp_path):
    """Jinja's sandbox gives an undefined value for an unsafe attribute, which prints as nothing: docgen
    fails the template at the first reach instead."""
    templates = agency_copy(tmp_path, "{% if doc.__class__ %}{% endif %}{{ cycler.__init__ }}")
    result = invoke("render", PLAN, "--out", tmp_path / "out", "--templates", templates, "--as-of", AS_OF)
    assert result.exit_code == 1
    failed_line(result.stderr, "unsafe template treatment_plan.docx: access to attribute '__class__'")


def test_the_sandbox_keeps_docgens_escaping():
    """The sandboxed environment still compiles with docgen's code generator, so every printed value
    passes ``finalize`` (client text escaped) alone, whatever filter a template uses."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment  # noqa: PLC0415

    from docgen.render.docx import escaping  # noqa: PLC0415

    env = escaping.environment()
    assert isinstance(env, ImmutableSandboxedEnvironment)
    assert env.code_generator_class is escaping._PrintingGenerator  # noqa: SLF001
    assert env.finalize is escaping._printed  # noqa: SLF001
    assert "environment.finalize(" in env.compile("{{ x }}", raw=True)
    template = env.from_string("{{ x }}|{{ x|safe }}|{% autoescape false %}{{ x }}{% endautoescape %}")
    shown = str(escaping.text("<b>&{_{"))
    assert "&lt;b&gt;&amp;" in shown and "{_{" not in shown
    assert template.render(x="<b>&{_{") == "|".join([shown] * 3)
