"""One record, cold (issue #17): what `docgen render plan.yaml --format pdf` loads in a fresh process.

Not timed (bench/cold.py times it against floors measured in the same run): the modules only other
commands or formats need stay out of the process, so that a change importing them again on this path
shows here, whatever the machine's speed."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLAN = ROOT / "fixtures" / "plans" / "plan-adult-mdd-complete.yaml"
AS_OF = "2026-11-24"

#: Loaded by `docgen render --format pdf` as the `docgen` script starts it; the modules it ends with are
#: written to the file named last (stdout holds the command's summary).
_RUN = """
import json, sys
from docgen.cli import main
listing = sys.argv.pop()
sys.argv[0] = "docgen"
try:
    main()
except SystemExit as exit:
    code = exit.code
with open(listing, "w", encoding="utf-8") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""

#: What only other commands, formats or options need (top-level names and modules).
NOT_FOR_A_PDF = {
    "DOCX": ("docx", "docxtpl", "jinja2", "lxml", "docgen.render.docx"),
    "signing": ("pyhanko", "pyhanko_certvalidator", "asn1crypto", "docgen.sign.pades", "docgen.sign.verify"),
    "the service": ("fastapi", "starlette", "uvicorn", "httpx", "docgen.serve"),
    "FHIR": ("fhir", "docgen.fhir"),
    "packets": ("pypdf", "docgen.packet"),
    "batches": ("docgen.batch", "distributed"),
    # xml.sax.saxutils imports urllib.request, which imports http.client and ssl (11 ms): XMP escapes
    # its own text (docgen/render/xmp.py)
    "the web": ("urllib.request", "http.client", "ssl", "xml.sax"),
}


def _loaded(tmp_path: Path, cache: Path, run: int) -> set[str]:
    listing = tmp_path / f"modules-{run}.json"
    env = {k: v for k, v in os.environ.items() if k != "DOCGEN_AUDIT"}
    env["DOCGEN_CACHE"] = str(cache)
    done = subprocess.run([sys.executable, "-c", _RUN, "render", str(PLAN), "--format", "pdf", "--out",
                           str(tmp_path / "out"), "--as-of", AS_OF, str(listing)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(listing.read_text(encoding="utf-8"))
    assert found["code"] == 0 and (tmp_path / "out" / "TP-1001.pdf").is_file()
    return set(found["modules"])


def _present(modules: set[str], name: str) -> bool:
    return name in modules or any(m.startswith(name + ".") for m in modules)


@pytest.mark.slow
def test_a_pdf_render_loads_nothing_only_other_commands_need(tmp_path):
    cache = tmp_path / "cache"
    first = _loaded(tmp_path, cache, 1)  # builds the cache folder's ICD-10-CM table and parsed fonts
    again = _loaded(tmp_path, cache, 2)  # the cold start of issue #17: a fresh process, the cache in place
    for modules in (first, again):
        assert {"docgen.render.pdf", "reportlab", "pydantic"} <= modules  # the listing sees what ran
        wrong = {need: [name for name in names if _present(modules, name)] for need, names in NOT_FOR_A_PDF.items()}
        assert {need: names for need, names in wrong.items() if names} == {}
    assert _present(first, "simple_icd_10_cm")
    assert not _present(again, "simple_icd_10_cm")  # the table comes from the cache
