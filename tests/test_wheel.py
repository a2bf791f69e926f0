"""The package as a user gets it: a wheel built from the sources, installed (not editable) in a fresh
virtual environment, run from a folder that is not the checkout. Catches what the editable install
of every other test hides: a file the code needs (Word templates, pdf-style.toml, profiles, fonts)
that the wheel does not ship, or a dependency missing from pyproject.toml.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parent.parent
PLAN = ROOT / "fixtures" / "plans" / "plan-adult-mdd-complete.yaml"  # TP-1001, complete on 2026-11-24
# what a user's shell might carry that would make the installed package use the checkout's files
LEAKS = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "DOCGEN_TEMPLATES", "DOCGEN_CACHE", "DOCGEN_AUDIT",
         "VIRTUAL_ENV")


def _run(*args, cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{args[:4]}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.mark.slow
def test_the_wheel_installed_in_a_fresh_venv_renders_docx_and_pdf(tmp_path):
    """Build the wheel with pip (``pip wheel --no-deps``, build isolation: setuptools as
    pyproject.toml asks) from a copy of the sources (pyproject.toml, README.md, docgen/), so nothing
    is written into the checkout and no stale ``build/`` there leaks files into the wheel. Install it
    in a new venv with its dependencies resolved by pip as a user's ``pip install docgen-*.whl``
    would (no ``--system-site-packages``, no ``--no-deps``: a dependency missing from pyproject.toml
    fails here), then render a fixture plan final from a temporary folder, with a cache folder of
    its own (a cached prepared template must not stand in for a missing one).

    Time: 27-50 s on the 2-core machine, shared with other test runs (the wheel 6 s; the venv and
    the install 20-40 s with pip's cache warm, as it is in CI after the README's install command;
    the render 2 s); longer when pip has to download the dependencies. Installing with ``--no-deps``
    into a venv sharing the test venv's packages would save those 20-40 s but no longer check that
    pyproject.toml names every dependency."""
    started = time.monotonic()
    env = {k: v for k, v in os.environ.items() if k not in LEAKS}
    env["DOCGEN_CACHE"] = str(tmp_path / "cache")
    env["CI"] = "1"

    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "docgen", source / "docgen", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, source, cwd=tmp_path, env=env,
         timeout=300)
    [wheel] = dist.glob("docgen-*.whl")

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=tmp_path, env=env, timeout=120)
    python, docgen = venv / "bin" / "python", venv / "bin" / "docgen"
    _run(python, "-m", "pip", "install", "-q", wheel, cwd=tmp_path, env=env, timeout=900)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = _run(python, "-c", "import docgen, docgen.settings as s; print(docgen.__file__); "
                 "print(s.templates_folder())", cwd=elsewhere, env=env, timeout=60).stdout.split()
    site = venv / "lib"
    assert all(Path(p).is_relative_to(site) for p in where), f"not the installed package: {where}"

    out = elsewhere / "out"
    rendered = subprocess.run([str(docgen), "render", str(PLAN), "--out", str(out), "--as-of", "2026-11-24"],
                              cwd=elsewhere, env=env, capture_output=True, text=True, timeout=180)
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr
    docx, pdf = out / "TP-1001.docx", out / "TP-1001.pdf"
    assert docx.is_file() and pdf.is_file(), (sorted(p.name for p in out.iterdir()), rendered.stdout)
    with zipfile.ZipFile(docx) as z:
        assert z.testzip() is None
        body = etree.fromstring(z.read("word/document.xml"))
    words = "".join(body.itertext())
    assert etree.QName(body).localname == "document" and "Maria Elena Ortiz" in words, words[:500]
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "TP-1001" in text and "Maria Elena Ortiz" in text
    listed = _run(docgen, "rules", "--sources", "--profile", "mn-245g", cwd=elsewhere, env=env, timeout=60).stdout
    assert "https://www.revisor.mn.gov/statutes/cite/245G.06" in listed  # the bibliography (check/sources.toml)
    shutil.rmtree(venv)  # 180 MB: pytest keeps its last three temporary folders
    print(f"wheel test: {time.monotonic() - started:.1f} s")  # shown with -s
