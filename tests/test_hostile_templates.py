"""Hostile Word templates (issue #12, "Code execution" and "Hostile templates"): a template is rendered in
Jinja's sandbox, so one that reaches for Python internals fails its record with one line and runs
nothing; a template archive beyond sane limits (entries, size, compression ratio), with a DTD in a part or
with an entry name outside the package is refused before it is inflated or parsed.

Every attack is a copy of a shipped template with one thing changed, rendered with ``--templates``."""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError

from docgen.render import DEFAULT_TEMPLATES
from hostile import Run, run_measured
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
    templates = agency_copy(tmp_path, "{{ cycler.__init__.__globals__.os.system('touch " + str(marker) + "') }}")
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
    "{{ docgen_table.begin.__func__.__globals__ }}",  # a method of docgen's own context objects
    "{{ doc.sections[0].__class__ }}",
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
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from docgen.render.docx import escaping

    env = escaping.environment()
    assert isinstance(env, ImmutableSandboxedEnvironment)
    assert env.code_generator_class is escaping._PrintingGenerator  # noqa: SLF001
    assert env.finalize is escaping._printed  # noqa: SLF001
    assert "environment.finalize(" in env.compile("{{ x }}", raw=True)
    template = env.from_string("{{ x }}|{{ x|safe }}|{% autoescape false %}{{ x }}{% endautoescape %}")
    shown = str(escaping.text("<b>&{_{"))
    assert "&lt;b&gt;&amp;" in shown and "{_{" not in shown
    assert template.render(x="<b>&{_{") == "|".join([shown] * 3)


def test_only_names_the_sandbox_allows_on_any_object_skip_its_checks():
    """docgen's own context objects (plain data) are read without the sandbox's per-access checks, but
    only for attribute names the template spells out and the sandbox allows on any object."""
    from types import SimpleNamespace

    from docgen.render.docx import escaping

    env = escaping.environment([SimpleNamespace])
    code = env.compile("{{ a.title }}{{ a._x }}{{ a.__class__ }}{{ a.format }}{{ a|attr('title') }}", raw=True)
    a = "(undefined(name='a') if l_0_a is missing else l_0_a)"
    assert f"environment.plain_getattr({a}, 'title')" in code
    for name in ("_x", "__class__", "format"):
        assert f"environment.getattr({a}, {name!r})" in code
    plain = SimpleNamespace(title="T", pattern="{0.__class__}")
    assert env.from_string("{{ a.title }}").render(a=plain) == "T"
    for source in ("{{ a.__class__ }}", "{{ a.pattern.format(a) }}", "{{ a|attr('__dict__') }}"):
        with pytest.raises(Exception, match="unsafe"):
            env.from_string(source).render(a=plain)
    with pytest.raises(TypeError, match="not plain data"):
        escaping.environment([dict])


# --- hostile archives -----------------------------------------------------------------------------
GiB, MiB = 1 << 30, 1 << 20


def deflated(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def zeros(size: int) -> bytes:
    """A raw deflate stream of ``size`` zero bytes (a whole number of MiB), made without compressing
    them all: after a full flush every MiB of zeros deflates to the same bytes (about 1 KiB)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(bytes(MiB)) + packer.flush(zlib.Z_FULL_FLUSH)
    return block * (size // MiB) + packer.flush()


def raw_zip(entries: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip written by hand from (name, stored bytes, method, crc, declared size): its directory says
    whatever a hostile file says."""
    out, directory = bytearray(), bytearray()
    for name, stream, method, crc, size in entries:
        encoded, offset = name.encode("utf-8"), len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x0800, method, 0, 0x21, crc, len(stream), size,
                           len(encoded), 0) + encoded + stream
        directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0x0800, method, 0, 0x21, crc, len(stream),
                                 size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(directory), len(out), 0)
    return bytes(out + directory + end)


def entry(name: str, data: bytes) -> tuple[str, bytes, int, int, int]:
    return name, deflated(data), 8, zlib.crc32(data), len(data)


def hostile(tmp_path: Path, extra=(), change: dict[str, bytes] | None = None) -> Path:
    """The shipped templates with a treatment plan rebuilt by hand: its parts (``change`` replacing
    some), then ``extra`` raw entries."""
    folder = agency_copy(tmp_path)
    parts = [(name, (change or {}).get(name, data)) for name, data in _parts(folder / "treatment_plan.docx")]
    (folder / "treatment_plan.docx").write_bytes(raw_zip([entry(n, d) for n, d in parts] + list(extra)))
    return folder


def refused(tmp_path: Path, templates: Path, reason: str) -> str:
    out = tmp_path / "out"
    result = invoke("render", PLAN, "--out", out, "--templates", templates, "--as-of", AS_OF)
    assert result.exit_code == 1
    assert documents_in(out) == []
    return failed_line(result.stderr, f"refused template treatment_plan.docx: {reason}")


def measured(tmp_path: Path, templates: Path, *options: str) -> tuple[Run, float, float]:
    """The real command line in a process of its own: its result, seconds and peak memory (MiB)."""
    out, env = tmp_path / "out", {**os.environ, "DOCGEN_CACHE": str(tmp_path / "cache")}
    done = run_measured([str(DOCGEN), "render", str(PLAN), "--out", str(out), "--templates",
                                 str(templates), "--as-of", AS_OF, *options], timeout=300, address_space_gb=None,
                                env=env)
    assert documents_in(out) == []
    return done, done.seconds, done.peak_mb


def test_the_hand_made_zip_reads_as_the_template_it_copies(tmp_path):
    """The helper itself: a treatment plan rebuilt by hand renders like the shipped one."""
    result = invoke("render", PLAN, "--out", tmp_path / "out", "--templates", hostile(tmp_path), "--as-of", AS_OF)
    assert result.exit_code == 0, result.stderr
    assert "TP-1001.docx" in documents_in(tmp_path / "out")


@pytest.mark.parametrize("declared, reason", [
    (3 * GiB, "expands 3.0 GiB from 3.0 MiB (more than 200:1)"),  # refused from the directory, nothing inflated
    (512 * 1024, "inflates to more than its directory says"),  # no ratio limit below 1 MiB: caught inflating
])
def test_a_zip_bomb_is_refused_in_bounded_time_and_memory(tmp_path, declared, reason):
    """3 MiB that expand to 3 GiB (the issue's 6.3 GB of memory), its directory telling the truth or
    understating it: refused before inflating, or one byte past what the directory says."""
    crc = zlib.crc32(bytes(declared)) if declared < MiB else 0
    templates = hostile(tmp_path, [("word/media/image9.png", zeros(3 * GiB), 8, crc, declared)])
    done, seconds, peak = measured(tmp_path, templates)
    assert done.code == 1, done.stderr
    failed_line(done.stderr, f"refused template treatment_plan.docx: entry word/media/image9.png {reason}")
    assert seconds < 15 and peak < 300, (seconds, peak)  # a plain render: about 220 MiB


def test_too_many_entries_are_refused(tmp_path):
    templates = hostile(tmp_path, [entry(f"customXml/item{i}.bin", b"x") for i in range(1000)])
    refused(tmp_path, templates, "1017 entries (at most 1000)")


def test_too_much_in_all_is_refused(tmp_path):
    """Two entries of 40 MiB each, 40:1 each: only their sum is beyond the limits (64 MiB). Their
    content is never read: it is not even deflate."""
    junk = os.urandom(MiB)
    templates = hostile(tmp_path, [(f"word/media/image{i}.png", junk, 8, 0, 40 * MiB) for i in (8, 9)])
    refused(tmp_path, templates, "it expands to 80.4 MiB (at most 64 MiB)")


@pytest.mark.parametrize("name", ["../evil", "word/../../evil", "/etc/evil", "\\\\server\\evil", "C:evil",
                                  "word\\..\\..\\evil"])
def test_entry_names_outside_the_package_are_refused(tmp_path, name):
    templates = hostile(tmp_path, [entry(name, b"copied into every document")])
    refused(tmp_path, templates, "entry name ")


def test_a_repeated_entry_name_is_refused(tmp_path):
    templates = hostile(tmp_path, [entry("word/settings.xml", b"<w:settings/>")])
    refused(tmp_path, templates, "entry word/settings.xml appears twice")


@pytest.mark.parametrize("name, encoding", [("word/settings.xml", "utf-8"), ("word/document.xml", "utf-16"),
                                            ("customXml/item1.xml", "utf-8"), ("word/media/logo.svg", "utf-8")])
def test_a_dtd_in_any_part_is_refused(tmp_path, name, encoding):
    original = dict(_parts(DEFAULT_TEMPLATES / "treatment_plan.docx")).get(name, b'<?xml version="1.0"?><svg/>')
    text = original.decode("utf-8")
    head, rest = text.split("?>", 1) if text.startswith("<?xml") else ('<?xml version="1.0"', text)
    if encoding != "utf-8":
        head = head.replace('encoding="UTF-8"', f'encoding="{encoding.upper()}"')
    doctype = '<!DOCTYPE lol [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>'
    hostile_part = (head + "?>" + doctype + rest).encode(encoding)
    change, extra = ({name: hostile_part}, []) if name != "word/media/logo.svg" else ({}, [entry(name, hostile_part)])
    refused(tmp_path, hostile(tmp_path, extra, change), f"part {name} holds a DTD (<!DOCTYPE)")


@pytest.mark.parametrize("method, reason", [(14, "compressed with method 14 (only stored and deflated)"),
                                            (12, "compressed with method 12 (only stored and deflated)")])
def test_other_compression_methods_are_refused(tmp_path, method, reason):
    """LZMA and bzip2 decompressors take memory the directory does not show (an LZMA dictionary)."""
    templates = hostile(tmp_path, [("word/media/image9.png", b"\0" * 64, method, 0, 100)])
    refused(tmp_path, templates, f"entry word/media/image9.png is {reason}")


def test_a_file_that_is_not_a_zip_is_refused(tmp_path):
    templates = agency_copy(tmp_path)
    (templates / "treatment_plan.docx").write_bytes(b"not a zip at all")
    refused(tmp_path, templates, "not a zip archive (a Word template is one)")


# --- a template cannot hang a run or exhaust its memory ------------------------------------------------
def measured_payload(tmp_path: Path, payload: str) -> tuple[Run, float, float]:
    """The real command line rendering the plan with ``payload`` in its template's title."""
    return measured(tmp_path, agency_copy(tmp_path, payload), "--format", "docx")


HOURS_OR_MEMORY = [
    # 10^10 iterations of nothing: the sandbox's range() alone allows 100,000 each
    ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "loops or calls more than"),
    ("{% for i in range(100000) %}{% for j in range(100000) %}{{ j }}{% endfor %}{% endfor %}",
     "loops or calls more than"),
    ("{% macro f(n) %}{% if n > 40 %}{% else %}{{ f(n + 1) }}{{ f(n + 1) }}{% endif %}{% endmacro %}{{ f(0) }}",
     "loops or calls more than"),  # 2^40 calls, no loop
    ("{% for x in [1] recursive %}{{ loop([1, 1]) }}{% endfor %}", "recursive loops are not allowed"),
    ("{{ '{:>1000000000}'.format(1) }}", "would build a value of"),
    ("{{ '{:>{w}}'.format(1, w=1000000000) }}", "would build a value of"),
    ("{{ '%*d'|format(1000000000, 1) }}", "would build a value of"),
    ("{{ ('x' * 100000) * 100000 }}", "would build a value of"),
    ("{{ 'x' * 10000000000 }}", "would build a value of"),
    ("{{ [0] * 10000000000 }}", "would build a value of"),
    ("{{ 7 ** 1000000000 }}", "would build a value of"),
    ("{{ '%01000000000d' % 1 }}", "would build a value of"),
    ("{{ 'x'.ljust(10000000000) }}", "would build a value of"),
    ("{{ 'x'|center(10000000000) }}", "would build a value of"),
    ("{{ [1]|batch(10000000000, 0)|list }}", "would build a value of"),
    ("{{ ('x' * 10000)|replace('x', 'y' * 10000) }}", "would build a value of"),
]


@pytest.mark.parametrize("payload, reason", HOURS_OR_MEMORY)
def test_a_template_that_would_run_for_hours_or_fill_memory_fails_its_record(tmp_path, payload, reason):
    """Each would run for hours or allocate gigabytes; refused at once (before the fix, every one hung)."""
    templates = agency_copy(tmp_path, payload)
    out = tmp_path / "out"
    result = invoke("render", PLAN, "--out", out, "--templates", templates, "--as-of", AS_OF, "--format", "docx")
    assert result.exit_code == 1
    line = failed_line(result.stderr, "unsafe template treatment_plan.docx: ")
    assert reason in line, line
    assert documents_in(out) == []


@pytest.mark.slow
@pytest.mark.parametrize("payload, reason", [HOURS_OR_MEMORY[0], HOURS_OR_MEMORY[3], HOURS_OR_MEMORY[-3]])
def test_a_hostile_template_costs_seconds_and_megabytes_in_a_process_of_its_own(tmp_path, payload, reason):
    done, seconds, peak = measured_payload(tmp_path, payload)
    assert done.code == 1, done.stderr
    line = failed_line(done.stderr, "unsafe template treatment_plan.docx: ")
    assert reason in line, line
    assert seconds < 30 and peak < 400, (seconds, peak)


def test_loops_of_an_ordinary_template_are_not_limited():
    """The shipped templates loop a few thousand times for a long plan: far under the budget."""
    from docgen.render.docx import escaping

    env = escaping.environment()
    template = env.from_string("{% for i in range(300) %}{% for j in range(300) %}.{% endfor %}{% endfor %}")
    assert len(escaping.render(template, {})) == 90000  # 90,300 steps: 275 times the longest fixture plan's
    over = env.from_string("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
    with pytest.raises(SecurityError, match="loops or calls more than"):
        escaping.render(over, {})


def test_the_limits_refuse_growth_not_ordinary_numbers():
    """Only what builds a value from a size is checked: a template may print or default to a large
    number, split a string or index a list with one."""
    from docgen.render.docx import escaping

    env = escaping.environment()
    ordinary = env.from_string("{{ x|default(250000) }} {{ 'a,b'.split(',', 500000)|length }} {{ 10 ** 6 }}")
    assert escaping.render(ordinary, {}) == "250000 2 1000000"
    for growing in ("{{ 'x'.zfill(500000) }}", "{{ 'x'|indent(500000, true) }}",
                    "{{ 'ab'.replace('a', 'a' * 90000) * 2 }}"):
        with pytest.raises(SecurityError, match="would build a value"):
            escaping.render(env.from_string(growing), {})
