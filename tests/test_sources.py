"""Sources a reader can follow: every rule cites entries of the bibliography (docgen/check/sources.toml),
each with a full citation and a URL; no rule or shipped profile cites docgen's own notes or bare codes."""
from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from builders import check, plan_dict
from docgen import api
from docgen.check import RULES, builtin_names, load_profile
from docgen.check.sources import bibliography, cite, entries, is_policy, keys_of, references, unresolved
from docgen.cli import main

ROOT = Path(__file__).resolve().parents[1]
NOTES = re.compile(r"\.md\b|\bS\d+\b|user-complaints|treatment-plans|rules\.md", re.IGNORECASE)


def _all_sources():
    """(where, source) for every rule's own source and every shipped profile's source for a rule."""
    for rule in RULES.values():
        yield f"rule {rule.id}", rule.source
    for name in builtin_names():
        profile = load_profile(name)
        for rule_id, settings in profile.rules.items():
            if "source" in settings:
                yield f"profile {name}, rule {rule_id}", entries(settings["source"])


def test_every_source_resolves_to_bibliography_entries_with_a_url():
    for where, source in _all_sources():
        assert unresolved(source) == [], f"{where}: cannot be followed: {unresolved(source)}"
        assert references(source) or all(is_policy(e) for e in source), where
        for ref in references(source):
            assert re.match(r"https?://\S+$", ref.url), (where, ref.key, ref.url)


def test_no_source_cites_our_notes_or_bare_codes():
    for where, source in _all_sources():
        for entry in source:
            assert not NOTES.search(entry), f"{where}: {entry!r}"


def test_every_rule_cites_a_regulation_standard_or_says_docgen_policy():
    for rule in RULES.values():
        assert rule.source, rule.id
        assert keys_of(rule.source) or any(is_policy(e) for e in rule.source), rule.id


def test_bibliography_entries_are_complete_and_all_cited():
    known = bibliography()
    assert len(known) >= 30
    for ref in known.values():
        assert ref.citation.strip() and ref.short.strip() and ref.what.strip(), ref.key
        assert re.match(r"https?://\S+$", ref.url), ref.key
        assert all(re.match(r"https?://\S+$", url) for url in ref.see_also), ref.key
        assert not NOTES.search(ref.citation), ref.key
    cited = {key for _, source in _all_sources() for key in keys_of(source)}
    assert set(known) - cited == set(), f"entries no rule or profile cites: {sorted(set(known) - cited)}"


def test_the_regulations_this_issue_names_are_in_the_bibliography():
    known = bibliography()
    assert "ecfr.gov" in known["cfr-45-164.312"].url
    assert "pim83c03" in known["cms-pim-3"].url
    assert "245G.06" in known["mn-stat-245g.06"].url
    assert "BHIN-23-068" in known["ca-bhin-23-068"].url
    assert "564-804" in known["tac-26-564.804"].url
    assert "599.10" in known["nycrr-14-599.10"].url
    assert "354-2609" in known["tac-1-354.2609"].url


def test_cite_prints_a_bare_key_as_its_short_title_and_leaves_text_alone():
    assert cite(["mn-stat-245g.06"]) == "Minn. Stat. §245G.06 [mn-stat-245g.06]"
    assert cite("Riverside policy 4.2") == "Riverside policy 4.2"  # an agency's own, as written
    assert keys_of("Riverside policy [4.2]") == []  # a bracketed number is not a key
    assert unresolved("Riverside policy 4.2") == ["Riverside policy 4.2"]
    assert unresolved(["docgen policy: x"]) == []
    assert cite(["a [cms-pim-3]", "docgen policy: b"]) == "a [cms-pim-3]; docgen policy: b"


def test_findings_carry_the_rules_citations():
    plan = plan_dict()
    del plan["signatures"][0]
    [finding] = [f for f in check(plan) if f.rule == "sig-present"]
    assert "[cms-pim-3]" in finding.source and "S1" not in finding.source


def test_tx_sud_plan_cites_the_sud_licensing_rule_not_juvenile_justice():
    rule = RULES["tx-sud-plan"]
    assert keys_of(rule.source) == ["tac-26-564.804"]
    assert "37 TAC" not in cite(rule.source)


def test_api_rules_sources_option():
    _, _, plain = api.rules()
    assert all(row.references is None for row in plain)
    _, _, listed = api.rules(profile="tx-medicaid", sources=True)
    rows = {row.rule: row for row in listed}
    assert [ref.key for ref in rows["plan-deadline"].references] == ["tac-1-354.2609"]
    assert rows["plan-deadline"].keys == ("tac-1-354.2609",)
    assert rows["plan-deadline"].as_dict()["references"][0]["url"].startswith("https://")
    assert "references" not in plain[0].as_dict()


def test_cli_rules_sources_prints_citations_and_urls():
    result = CliRunner().invoke(main, ["rules", "--sources"])
    assert result.exit_code == 0, result.output
    block = result.stdout.split("\nsig-attestation [")[1].split("\n\n")[0]
    assert "[cms-pim-3] Centers for Medicare & Medicaid Services, Medicare Program Integrity Manual" in block
    assert "https://www.cms.gov/Regulations-and-Guidance/Guidance/Manuals/Downloads/pim83c03.pdf" in block
    assert "https://" not in CliRunner().invoke(main, ["rules"]).stdout  # only with --sources
    listing = json.loads(CliRunner().invoke(main, ["rules", "--sources", "--format", "json"]).stdout)
    row = next(r for r in listing["rules"] if r["rule"] == "mn-sud-itp")
    assert row["keys"] == ["mn-stat-245g.06"]
    assert row["references"][0]["url"] == "https://www.revisor.mn.gov/statutes/cite/245G.06"


def test_an_agency_profile_may_cite_a_list(tmp_path):
    path = tmp_path / "agency.toml"
    path.write_text('extends = "default"\n[rules.plan-deadline]\ndays = 14\n'
                    'source = ["Riverside policy 4.2", "docgen policy: x", "45 CFR 164.312 [cfr-45-164.312]"]\n',
                    encoding="utf-8")
    _, _, listed = api.rules(profile=str(path), sources=True)
    row = next(r for r in listed if r.rule == "plan-deadline")
    assert row.source == "Riverside policy 4.2; docgen policy: x; 45 CFR 164.312 [cfr-45-164.312]"
    assert [ref.key for ref in row.references] == ["cfr-45-164.312"]


@pytest.mark.parametrize("name", ["sources.toml"])
def test_the_bibliography_ships_in_the_package(name):
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = data["tool"]["setuptools"]["package-data"]["docgen"]
    assert f"check/{name}" in shipped or "check/*.toml" in shipped
