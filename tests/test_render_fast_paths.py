"""docgen's PDF fast paths write the very bytes of reportlab's generic ones: a line of printable ASCII
written without reportlab's per-character subset split, string widths, CMaps and each font subset's
objects (dictionary, descriptor, ToUnicode, file) made once per process. Every fixture, a record in
each script and the markup-laden plan are rendered with the fast paths (twice: caches cold, then
warm) and without them, and the files compared byte for byte."""
from __future__ import annotations

import hashlib
import json

import pytest

import builders
from docgen import api
from docgen.load import read
from docgen.render.pdf import reportlab_patches
from render_helpers import FIXTURES, uni_note, uni_plan
from test_render_scripts import GOAL_TAIL, SCRIPTS

pytestmark = pytest.mark.slow


def _records() -> list[dict]:
    records = []
    for path in sorted(FIXTURES.rglob("*")):
        if path.suffix in (".yaml", ".json", ".jsonl") and "invalid" not in path.name:
            records += [raw.data for raw in read([path])][:3]
    for key, (name, words, goal) in SCRIPTS.items():
        plan = builders.plan_dict()
        plan["id"], plan["client"]["name"] = f"TP-{key.upper()}", name
        plan["goals"][0]["client_words"], plan["goals"][0]["statement"] = words, goal + GOAL_TAIL
        records.append(plan)
    return [*records, uni_plan(), uni_note()]


def _pdfs(records: list[dict]) -> dict[str, str]:
    out = {}
    for index, data in enumerate(records):
        # JSON round trip: rendering must not depend on which dict objects come in
        rendered = api.render_record(json.loads(json.dumps(data, default=str)), formats=("pdf",), allow_draft=True,
                                     as_of=builders.AS_OF)
        if rendered.documents and "pdf" in rendered.documents:
            out[f"{index}:{data.get('id')}"] = hashlib.sha256(rendered.documents["pdf"]).hexdigest()
    return out


def test_the_fast_paths_write_the_bytes_of_the_generic_ones(monkeypatch):
    records = _records()
    cold, warm = _pdfs(records), _pdfs(records)
    monkeypatch.setattr(reportlab_patches, "FAST_PATHS", False)
    generic = _pdfs(records)
    assert len(generic) >= 40  # fixtures (finals and drafts), every script, the markup-laden plan and note
    assert cold == generic
    assert warm == generic
