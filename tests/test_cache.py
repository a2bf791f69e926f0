"""The cache folder (issue #12, "Code execution"): prepared Word templates (compiled code) and the
ICD-10-CM table (verdicts) are loaded from ``DOCGEN_CACHE``, so nothing there may run code or change a
verdict. Entries carry an HMAC of their content keyed by a per-user secret; a planted, edited, corrupt or
wrong-shape entry is rebuilt; a folder others could write in is not used at all."""
from __future__ import annotations

import hashlib
import json
import logging
import marshal
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import builders
from docgen import api
from docgen.check import icd10
from docgen.compose import compose
from docgen.render import DEFAULT_TEMPLATES, metadata_for
from docgen.render.docx import DocxRenderer
from docgen.render.docx import template as preparation
from render_helpers import FIXTURES, invoke

PLAN = FIXTURES / "plans" / "plan-adult-mdd-complete.yaml"  # TP-1001: diagnosis F33.1
AS_OF = "2026-11-24"
DOCGEN = Path(sys.executable).with_name("docgen")


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("DOCGEN_CACHE", str(folder))
    return folder


@pytest.fixture(scope="module")
def composed():
    result = api.check([PLAN], as_of=builders.AS_OF)[0]
    doc = compose(result.record, result.findings, result.profile, draft=False)
    return doc, metadata_for(result.record, result.profile, "0" * 64), result.record.service_date


def render(composed) -> bytes:
    """The plan's DOCX from a fresh renderer (a new process would do the same: read the cache)."""
    return DocxRenderer(DEFAULT_TEMPLATES).render(*composed)


def entry_of(folder: Path, prefix: str) -> Path:
    found = [p for p in folder.iterdir() if p.name.startswith(prefix) and not p.name.startswith(".")]
    assert len(found) == 1, found
    return found[0]


def framed(name: str, payload: bytes, digest: bytes) -> bytes:
    """An entry as docgen frames one, with the digest an attacker can compute."""
    from docgen import cache as entries

    return entries.MAGIC + digest + payload


def forged(how: str, name: str, payload: bytes) -> bytes:
    """``payload`` put in the cache by someone without the key: as it is ("raw": a marshal, as docgen
    wrote its entries before), with the sha256 of its content, or with an HMAC under another key."""
    if how == "raw":
        return payload
    if how == "sha256":
        return framed(name, payload, hashlib.sha256(payload).digest())
    from docgen import cache as entries

    return entries._seal(os.urandom(32), name, payload)  # noqa: SLF001


@pytest.fixture
def counted(monkeypatch) -> list:
    """Calls to the template preparation (docxtpl's work: done when the cache did not serve)."""
    real, calls = preparation._prepare, []  # noqa: SLF001
    monkeypatch.setattr(preparation, "_prepare", lambda *a: calls.append(a) or real(*a))
    return calls


# --- prepared templates ---------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["raw", "sha256", "other key"])
def test_a_planted_template_entry_that_would_run_code_is_not_run(cache, composed, counted, tmp_path, how):
    first = render(composed)
    entry = entry_of(cache, "template-")
    marker = tmp_path / "ran"
    path = DEFAULT_TEMPLATES / "treatment_plan.docx"
    prepared, sources = preparation._prepare(path, path.read_bytes())  # noqa: SLF001 - the real shape
    code = compile(f"open({str(marker)!r}, 'w').close()", "planted", "exec")
    payload = marshal.dumps((prepared, {name: code for name in sources}))
    entry.write_bytes(forged(how, entry.name, payload))
    counted.clear()
    assert render(composed) == first
    assert not marker.exists()
    assert len(counted) == 1  # prepared again, and cached again:
    assert render(composed) == first and len(counted) == 1


@pytest.mark.parametrize("content", [b"", b"\x00garbage", b"docgen cache 1\n" + b"\x00" * 40])
def test_a_corrupt_template_entry_is_rebuilt(cache, composed, counted, content):
    first = render(composed)
    entry_of(cache, "template-").write_bytes(content)
    assert render(composed) == first
    assert render(composed) == first and len(counted) == 2  # the first render's and the rebuild's


def test_a_wrong_shape_template_entry_is_rebuilt(cache, composed, counted):
    """Today's failure: a valid marshal of ``({}, {})`` failed every record with KeyError, forever."""
    from docgen import cache as entries

    first = render(composed)
    entry = entry_of(cache, "template-")
    path = DEFAULT_TEMPLATES / "treatment_plan.docx"
    prepared, sources = preparation._prepare(path, path.read_bytes())  # noqa: SLF001
    shapes = [({}, {}), (prepared, {}), (prepared,), [prepared, {"word/document.xml": "not code"}], None,
              ({**prepared, "order": 3}, {}), compile("1", "x", "exec"),
              (prepared, {name: compile("1", "x", "exec") for name in sources})]  # code, but not a template's
    counted.clear()
    for shape in shapes:
        entry.write_bytes(marshal.dumps(shape))  # as docgen wrote entries before
        assert render(composed) == first
        entries.store(entry.name, marshal.dumps(shape))  # and authenticated, as a docgen bug could write it
        assert render(composed) == first
    assert len(counted) == 2 * len(shapes)
    assert render(composed) == first and len(counted) == 2 * len(shapes)


def test_the_cache_folder_is_created_private_with_a_private_key(tmp_path, monkeypatch, composed):
    folder = tmp_path / "a" / "b" / "cache"
    monkeypatch.setenv("DOCGEN_CACHE", str(folder))
    render(composed)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    key = folder / "key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and key.stat().st_size == 32
    for entry in folder.iterdir():
        assert stat.S_IMODE(entry.stat().st_mode) == 0o600, entry.name


def test_a_key_others_can_read_is_replaced(cache, composed, counted):
    first = render(composed)
    key = cache / "key"
    old = key.read_bytes()
    key.chmod(0o644)
    assert render(composed) == first
    assert key.read_bytes() != old and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(counted) == 2  # the entry made under the old key is made again


def _plant_with_own_key(folder: Path, marker: Path) -> None:
    """What someone who can write in the folder can do: put their own key there, and an entry sealed
    with it for every template, whose code writes ``marker``."""
    from docgen import cache as entries

    key = os.urandom(32)
    (folder / "key").unlink(missing_ok=True)
    (folder / "key").write_bytes(key)
    (folder / "key").chmod(0o600)
    code = compile(f"open({str(marker)!r}, 'w').close()", "planted", "exec")
    for path in DEFAULT_TEMPLATES.glob("*.docx"):
        prepared, sources = preparation._prepare(path, path.read_bytes())  # noqa: SLF001
        name = preparation.CompiledTemplate._entry_name(path.read_bytes())  # noqa: SLF001
        payload = marshal.dumps((prepared, {part: code for part in sources}))
        (folder / name).write_bytes(entries._seal(key, name, payload))  # noqa: SLF001


def test_a_cache_folder_others_can_write_is_ignored_with_one_warning(cache, composed, counted, tmp_path, caplog):
    first = render(composed)
    marker = tmp_path / "ran"
    _plant_with_own_key(cache, marker)
    cache.chmod(0o777)
    entries_before = sorted(p.name for p in cache.iterdir())
    counted.clear()
    with caplog.at_level(logging.WARNING, logger="docgen"):
        assert render(composed) == first
        assert render(composed) == first
        icd10.codes.cache_clear()
        try:
            assert icd10.status("F33.1") == "billable"
        finally:
            icd10.codes.cache_clear()
    assert not marker.exists()
    assert len(counted) == 2  # prepared in each renderer: the cache is not used at all
    assert sorted(p.name for p in cache.iterdir()) == entries_before  # nor written
    warned = [r.getMessage() for r in caplog.records if "cache" in r.getMessage()]
    assert len(warned) == 1, warned
    assert f"cache folder {cache} ignored: writable by group or others" in warned[0]
    assert "\n" not in warned[0]


def test_the_real_cli_warns_once_on_stderr_and_renders(cache, tmp_path):
    cache.mkdir(mode=0o700)
    cache.chmod(0o770)
    out = tmp_path / "out"
    env = {**os.environ, "DOCGEN_CACHE": str(cache)}
    command = [str(DOCGEN)] if DOCGEN.exists() else [sys.executable, "-c", "from docgen.cli import main; main()"]
    done = subprocess.run([*command, "render", str(PLAN), "--out", str(out), "--as-of", AS_OF], capture_output=True,
                          text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    warned = [line for line in done.stderr.splitlines() if "cache" in line]
    assert warned == [f"docgen: cache folder {cache} ignored: writable by group or others; working without it"]
    assert (out / "TP-1001.docx").is_file() and list(cache.iterdir()) == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to give the folder away")
def test_a_cache_folder_of_another_user_is_ignored(cache, composed, counted, tmp_path, caplog):
    first = render(composed)
    marker = tmp_path / "ran"
    _plant_with_own_key(cache, marker)
    os.chown(cache, 65534, 65534)
    counted.clear()
    with caplog.at_level(logging.WARNING, logger="docgen"):
        assert render(composed) == first
    assert not marker.exists() and len(counted) == 1
    assert any("not owned by the current user" in r.getMessage() for r in caplog.records)


# --- the ICD-10-CM table --------------------------------------------------------------------------
def _check_json() -> list:
    icd10.codes.cache_clear()
    try:
        result = invoke("check", PLAN, "--format", "json", "--as-of", AS_OF)
        return json.loads(result.stdout)["records"]
    finally:
        icd10.codes.cache_clear()


def _altered(entry: bytes) -> bytes:
    """The entry with F33.1 renamed F33.Q and the header F33 made billable, its seal left as it was
    (as an attacker would: nothing recomputed)."""
    from docgen import cache as entries

    start = len(entries.MAGIC) + 32
    width, billable, header = marshal.loads(entry[start:])  # noqa: S302 - the entry docgen just wrote

    def records(run: bytes) -> list[bytes]:
        return [run[i:i + width] for i in range(0, len(run), width)]

    f33, old, new = (code.ljust(width) for code in (b"F33", b"F33.1", b"F33.Q"))
    bill = [new if r == old else r for r in records(billable)] + [f33]
    head = [r for r in records(header) if r != f33]
    assert new in bill and len(head) == len(header) // width - 1
    return entry[:start] + marshal.dumps((width, b"".join(sorted(bill)), b"".join(head)))


def _codes_of(table: icd10.Table) -> dict[str, bool]:
    return {run[i:i + table.width].decode().rstrip(): leaf
            for run, leaf in ((table.billable, True), (table.header, False)) for i in range(0, len(run), table.width)}


def test_the_icd10_table_answers_as_the_codes_it_was_made_of():
    codes = {"A00": False, "A00.0": True, "A00.1": True, "F33": False, "F33.1": True, "F33.A": True, "Z99.89": True,
             "S72.001A": True}
    table = icd10.Table.of(codes)
    assert table.width == 8 and len(table) == 8 and table.count_billable() == 6 and _codes_of(table) == codes
    for _ in range(2):  # answered, then remembered
        for code, leaf in codes.items():
            assert table.get(code) is leaf
        for other in ("", "A", "A0", "A00.", "A00.00", "F33 ", " F33", "F33.1 ", "f33.1", "F331", "S72.001AB",
                      "Z99.89\0", "\u00c433", "~", "F33.1".ljust(9)):
            assert table.get(other) is None, repr(other)


def test_an_altered_icd10_table_is_rebuilt_and_gives_the_clean_verdicts(cache):
    clean = _check_json()
    assert clean[0]["status"] == "complete"
    table = entry_of(cache, "icd10cm-")
    table.write_bytes(_altered(table.read_bytes()))  # as an attacker would: no digest recomputed
    assert _check_json() == clean
    icd10.codes.cache_clear()
    try:
        assert (icd10.status("F33.1"), icd10.status("F33"), icd10.status("F33.Q")) == ("billable", "header", "invalid")
    finally:
        icd10.codes.cache_clear()


def test_icd10_entries_forged_without_the_key_or_of_the_wrong_shape_are_rebuilt(cache, monkeypatch):
    from docgen import cache as entries

    icd10.codes.cache_clear()
    try:
        built = icd10.codes()
        package = _codes_of(built)
        rebuilt = []  # the package, read again (1.6 s each): counted, and served from the first reading
        monkeypatch.setattr(icd10, "_from_package", lambda: rebuilt.append(1) or dict(package))
        table = entry_of(cache, "icd10cm-")
        edited = icd10.Table.of({**package, "F33.1": False, "F33": True, "Z99.ZZZ": True})
        # a forged sha256 and an entry sealed with another key; then shapes docgen never writes, sealed:
        # the table of docgen 0.2 (a dict), no codes, records cut short, a width of 0, other types
        attempts = [forged(how, table.name, icd10._dump(edited)) for how in ("sha256", "other key")]  # noqa: SLF001
        for shape in (package, {}, (8, b"", b""), (8, b"F33.1   F33", b""), (0, b"F33.1", b""), (8, "F33.1   ", b""),
                      [8, b"F33.1   ", b""], (8, b"F33.1   ", b"", b""), (8.0, b"F33.1   ", b""),
                      compile("1", "x", "exec")):
            entries.store(table.name, marshal.dumps(shape))
            attempts.append(table.read_bytes())
        for content in attempts:
            table.write_bytes(content)
            icd10.codes.cache_clear()
            assert icd10.codes() == built
        assert len(rebuilt) == len(attempts)
    finally:
        icd10.codes.cache_clear()


# --- parsed fonts (docgen/render/pdf/fonts.py) ------------------------------------------------------
FONT_FILE = str(Path(__file__).resolve().parent.parent / "docgen" / "fonts" / "DejaVuSans-Oblique.ttf")


def _face(font) -> dict:
    return {k: v for k, v in vars(font.face).items() if k not in ("_pdfScale", "makeSubset", "docgen_subsets")}


@pytest.fixture
def parsed(monkeypatch) -> list:
    """Calls to reportlab's font parser (made when the cache did not serve)."""
    from docgen.render.pdf import fonts

    calls = []

    class Counted(fonts.TTFontFace):
        def __init__(self, path, *args, **kwargs):
            calls.append(path)
            super().__init__(path, *args, **kwargs)

    monkeypatch.setattr(fonts, "TTFontFace", Counted)
    return calls


def test_a_parsed_font_is_cached_and_read_back_as_parsed(cache, parsed):
    from reportlab.pdfbase.ttfonts import TTFont

    from docgen.render.pdf.fonts import _Font

    first = _Font.parsed_once("DocgenTestOblique", FONT_FILE)
    entry = entry_of(cache, "font-")
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600 and len(parsed) == 1
    again = _Font.parsed_once("DocgenTestOblique", FONT_FILE)
    assert len(parsed) == 1  # read from the cache, not parsed
    reference = TTFont("DocgenTestOblique", FONT_FILE)  # reportlab's own parse
    assert _face(first) == _face(again) == _face(reference)
    assert again.face.name.ustr == reference.face.name.ustr and again.shapable == reference.shapable
    assert again.stringWidth("Hello, Ünïcode", 9) == reference.stringWidth("Hello, Ünïcode", 9)
    assert again.face.makeSubset([0, 32, 72, 220]) == reference.face.makeSubset([0, 32, 72, 220])


@pytest.mark.parametrize("how", ["raw", "sha256", "other key", "flipped"])
def test_a_damaged_or_planted_font_entry_is_parsed_again(cache, parsed, how):
    from docgen.render.pdf.fonts import _Font

    clean = _face(_Font.parsed_once("DocgenTestOblique", FONT_FILE))
    entry = entry_of(cache, "font-")
    sealed = entry.read_bytes()
    payload = sealed[len(b"docgen cache 1\n") + 32:]
    values = marshal.loads(payload)  # noqa: S302 - the entry docgen just wrote
    values["charWidths"] = {**values["charWidths"], 72: 9999.0}  # an "H" as wide as ten lines
    if how == "flipped":
        entry.write_bytes(sealed[:-1] + bytes([sealed[-1] ^ 1]))
    else:
        entry.write_bytes(forged(how, entry.name, marshal.dumps(values)))
    parsed.clear()
    assert _face(_Font.parsed_once("DocgenTestOblique", FONT_FILE)) == clean
    assert len(parsed) == 1  # parsed again, and cached again:
    assert _face(_Font.parsed_once("DocgenTestOblique", FONT_FILE)) == clean and len(parsed) == 1


def test_a_font_entry_of_the_wrong_shape_is_parsed_again_and_runs_nothing(cache, parsed, tmp_path):
    from docgen import cache as entries
    from docgen.render.pdf.fonts import _Font

    clean = _face(_Font.parsed_once("DocgenTestOblique", FONT_FILE))
    entry = entry_of(cache, "font-")
    values = marshal.loads(entry.read_bytes()[len(b"docgen cache 1\n") + 32:])  # noqa: S302 - docgen wrote it
    marker = tmp_path / "ran"
    code = compile(f"open({str(marker)!r}, 'w').close()", "planted", "exec")
    shapes = [{}, None, [values], {**values, "charToGlyph": {72: "43"}}, {**values, "hmetrics": [(1, 2, 3)]},
              {**values, "name": ("docgen:TTFNameBytes", code, "x")}, {**values, "glyphPos": [1.5]},
              {**values, "extra": code}, {**values, "unitsPerEm": "2048"}, code]
    parsed.clear()
    for shape in shapes:  # sealed with the key, as a docgen bug could write them
        entries.store(entry.name, marshal.dumps(shape))
        assert _face(_Font.parsed_once("DocgenTestOblique", FONT_FILE)) == clean
    assert len(parsed) == len(shapes) and not marker.exists()
