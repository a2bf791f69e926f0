"""Insurer packets (issue #6): what goes in, what stays out, refusals, attachments, encryption, signing;
`docgen inspect` on PDFs that are not packets and on hostile ones (issue #12)."""
from __future__ import annotations

import contextlib
import json
import re
from datetime import date
from pathlib import Path

import pypdf
import pytest
from click.testing import CliRunner

import hostile
import pki
from docgen import api
from docgen.check import load_profile
from docgen.cli import main
from docgen.errors import NotAPacket
from docgen.model.digest import content_hash
from docgen.packet import build_packet
from docgen.packet.policy import load_policy
from docgen.sign import verify_pdf
from render_helpers import ROOT, run, tool, ws

AS_OF = "2026-11-24"
PASSWORD = "correct horse \u00e9 battery"
PROCESS_MARKER = "PROCESS-NOTE-MARKER-7001"
PN_MARKER = "PSYCHOTHERAPY-NOTE-MARKER-7002"
# rules.md c.1, 2024 Statement 1, as written there
STATEMENT_1 = (
    "This record which has been disclosed to you is protected by Federal confidentiality rules (42 CFR part 2). "
    "These rules prohibit you from using or disclosing this record, or testimony that describes the information "
    "contained in this record, in any civil, criminal, administrative, or legislative proceedings by any Federal, "
    "State, or local authority, against the patient, unless authorized by the consent of the patient, except as "
    "provided at 42 CFR 2.12(c)(5) or as authorized by a court in accordance with 42 CFR 2.64 or 2.65. In addition, "
    "the Federal rules prohibit you from making any other use or disclosure of this record unless at least one of "
    "the following applies: (i) Further use or disclosure is expressly permitted by the written consent of the "
    "individual whose information is being disclosed in this record or as otherwise permitted by 42 CFR part 2. "
    "(ii) You are a covered entity or business associate and have received the record for treatment, payment, or "
    "health care operations, or (iii) You have received the record from a covered entity or business associate as "
    "permitted by 45 CFR part 164, subparts A and E. A general authorization for the release of medical or other "
    "information is NOT sufficient to meet the required elements of written consent to further use or redisclose "
    "the record (see 42 CFR 2.31).")
STATEMENT_2018 = "42 CFR part 2 prohibits unauthorized disclosure of these records."
#: fields the claim purpose leaves out of a plan (history, person, risk, safety, consents sections)
CLAIM_PLAN_DROPS = ("history", "strengths", "needs", "barriers", "client_vision", "preferences", "supports",
                    "risk_assessment", "safety_plan", "consents")
#: fields the claim purpose leaves out of a note (the safety plan section)
CLAIM_NOTE_DROPS = ("safety_plan",)
C7001 = ["fixtures/plans/plan-adult-ptsd-release-authorization-complete.yaml",
         "fixtures/notes/note-ptsd-process-notes-soap-complete.yaml",
         "fixtures/notes/note-ptsd-psychotherapy-note-flagged-soap-complete.yaml"]
C5001 = ["fixtures/plans/plan-tx-medicaid-sud-part2-complete.json",
         "fixtures/notes/note-tx-sud-group-90853-girp-complete.json"]


def cli(*args):
    with contextlib.chdir(ROOT):
        return CliRunner().invoke(main, [str(a) for a in args])


def packet_args(paths, client, purpose, recipient, out, *extra):
    return ["packet", *paths, "--client", client, "--purpose", purpose, "--recipient", recipient,
            "--as-of", AS_OF, "--out", out, *extra]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("packets")


@pytest.fixture(scope="module")
def claim(folder):
    """C-7001 claim packet: plan TP-7001, note PN-7001-01 (process notes), PN-7001-02 withheld."""
    out = folder / "claim.pdf"
    result = cli(*packet_args(["fixtures/"], "C-7001", "claim", "Cascade Health Plan", out,
                              "--from", "2026-09-01", "--to", "2026-11-24"))
    assert result.exit_code == 0, result.output
    reader = pypdf.PdfReader(out)
    manifest = json.loads(reader.attachments["manifest.json"][0])
    return out, reader, manifest


@pytest.fixture(scope="module")
def part2(folder):
    out = folder / "part2.pdf"
    result = cli(*packet_args(C5001, "C-5001", "claim", "Superior HealthPlan", out))
    assert result.exit_code == 0, result.output
    return out, pypdf.PdfReader(out)


def _outline(reader):
    out, current = [], None
    for item in reader.outline:
        if isinstance(item, list):
            current[2].extend((child.title, reader.get_destination_page_number(child)) for child in item)
        else:
            current = (item.title, reader.get_destination_page_number(item), [])
            out.append(current)
    return out


def test_plan_notes_consents_in_one_packet_bookmarks_match_documents(claim):
    _out, reader, manifest = claim
    docs = manifest["documents"]
    assert [d["id"] for d in docs] == ["TP-7001", "PN-7001-01"]
    assert [(w["id"], w["reason"]) for w in manifest["withheld"]] == [
        ("PN-7001-02", "withheld: psychotherapy notes (45 CFR 164.501)")]
    outline = _outline(reader)
    assert [o[0] for o in outline] == ["Packet cover", "Treatment Plan TP-7001 (2026-09-22)",
                                       "Progress Note (SOAP) PN-7001-01 (2026-10-13)"]
    assert outline[0][1] == 0
    for (_title, page, children), doc in zip(outline[1:], docs, strict=True):
        assert page == doc["first_page"] - 1
        assert doc["id"] in reader.pages[page].extract_text()
        assert children and all(doc["first_page"] - 1 <= p < doc["first_page"] - 1 + doc["pages"] for _t, p in children)
        for child, child_page in children:  # each section heading is on the page its bookmark points at
            assert ws(child) in ws(reader.pages[child_page].extract_text()), child
    plan_sections = [t for t, _p in outline[1][2]]
    assert "History and assessment" not in plan_sections and "Diagnoses" in plan_sections  # minimum necessary
    assert manifest["total_pages"] == len(reader.pages)
    cover = ws(reader.pages[0].extract_text() + reader.pages[1].extract_text())
    for doc in docs:  # the index gives each document's first page
        assert re.search(rf"{re.escape(doc['id'])} \d\d/\d\d/\d{{4}} {doc['first_page']}\b", cover), doc["id"]
    assert "PN-7001-02" in cover and "psychotherapy notes (45 CFR 164.501)" in cover


def test_every_page_has_client_id_and_packet_page_number(claim, part2):
    for path, client in ((claim[0], "C-7001"), (part2[0], "C-5001")):
        reader = pypdf.PdfReader(path)
        total = len(reader.pages)
        for number, page in enumerate(reader.pages, 1):
            text = page.extract_text()
            assert f"Packet page {number} of {total}" in text
            assert f"Client ID {client}" in text
        poppler = run(tool("pdftotext"), "-layout", path, "-").stdout.split("\f")
        assert sum(f"Packet page {n} of {total}" in poppler[n - 1] for n in range(1, total + 1)) == total


def test_attachments_round_trip_to_the_records_json(claim):
    out, reader, manifest = claim
    attached = json.loads(reader.attachments["records.json"][0])["records"]
    originals = {r.id: r.record for r in api.validate([ROOT / p for p in C7001])}
    expected = []
    for record_id in ("TP-7001", "PN-7001-01"):
        data = originals[record_id].model_dump(mode="json")
        data.pop("psychotherapy_notes", None)
        for name in CLAIM_PLAN_DROPS if record_id.startswith("TP") else CLAIM_NOTE_DROPS:
            data.pop(name)
        expected.append(data)
    assert attached == expected
    assert [d["content_sha256"] for d in manifest["documents"]] == [
        content_hash(originals["TP-7001"]), content_hash(originals["PN-7001-01"])]
    # same inputs and dates, same bytes
    again = build_packet([ROOT / "fixtures"], "C-7001", "claim", "Cascade Health Plan", date(2026, 9, 1),
                         date(2026, 11, 24), disclosure=date(2026, 11, 24))
    assert again.pdf == out.read_bytes()


def test_psychotherapy_note_text_absent(claim, folder):
    out, reader, _ = claim
    qdf = folder / "claim-qdf.pdf"
    done = run(tool("qpdf"), "--qdf", "--object-streams=disable", out, qdf)
    assert done.returncode == 0, done.stderr
    layers = [qdf.read_bytes().decode("latin-1"), "\n".join(p.extract_text() for p in reader.pages),
              *(b.decode("utf-8") for blobs in reader.attachments.values() for b in blobs)]
    for layer in layers:
        assert PROCESS_MARKER not in layer and PN_MARKER not in layer
    # the markers are really in the records: the test would see them if they leaked
    sources = "".join((ROOT / p).read_text() for p in C7001)
    assert PROCESS_MARKER in sources and PN_MARKER in sources
    assert "PN-7001-01" in layers[1]  # the note itself is there, without its process notes


def test_part2_notice_present_when_required_and_refused_without_consent(part2, claim, folder):
    _out, reader = part2
    text = ws("\n".join(p.extract_text() for p in reader.pages[:2]))
    assert ws(STATEMENT_1) in text and "CON-5001-P2" in text
    assert "42 CFR" not in ws(claim[1].pages[0].extract_text()).replace("45 CFR", "")  # no Part 2 record, no notice
    policy = load_policy(load_profile("default"))
    assert policy.notice(date(2026, 2, 15)).text == STATEMENT_2018  # p2-version by disclosure date
    assert policy.notice(date(2026, 2, 16)).text == STATEMENT_1
    cases = [
        (["fixtures/plans/plan-sud-part2-no-consent-complete.yaml"], "C-6001", "claim", "Cascade Health Plan",
         "record TP-6001: consents: ", "p2-consent", "Kevin"),
        (C5001, "C-5001", "claim", "Acme Insurance", "record TP-5001: consents[1].recipient: ", "p2-consent", "Rosa"),
        (C5001, "C-5001", "continuity", "Superior HealthPlan", "record TP-5001: consents[1].purpose: ", "p2-consent",
         "Rosa"),
        (["fixtures/plans/plan-adult-mdd-complete.yaml"], "C-1001", "release", "Northwest Disability Insurance Company",
         "record TP-1001: consents: ", "hipaa-auth-core", "Maria"),
        (C7001, "C-7001", "release", "Acme Insurance", "record TP-7001: consents[1].recipient: ", "hipaa-auth-valid",
         "Jamal"),
        (["fixtures/"], "C-1001", "claim", "Cascade Health Plan", "record PN-1001-02: cpt_codes: ", "pt-band", "Maria"),
    ]
    for paths, client, purpose, recipient, line, rule, name in cases:
        target = folder / f"refused-{client}-{purpose}.pdf"
        result = cli(*packet_args(paths, client, purpose, recipient, target))
        assert result.exit_code == 1, (client, purpose, result.output)
        assert any(row.startswith(f"refused: {line}") and row.endswith(f"[{rule}]")
                   for row in result.stderr.splitlines()), result.stderr
        assert name not in result.output and not target.exists()
    ok = folder / "release.pdf"  # a valid authorization for this recipient: released, and on the cover
    result = cli(*packet_args(C7001, "C-7001", "release", "Northwest Disability Insurance Company", ok))
    assert result.exit_code == 0, result.output
    assert "CON-7001-A" in pypdf.PdfReader(ok).pages[0].extract_text()
    assert cli(*packet_args(C7001, "C-7001", "gossip", "X", folder / "x.pdf")).exit_code == 2


def test_encryption_is_aes256_and_the_password_is_required(folder, claim):
    pw_file = folder / "pw.txt"
    pw_file.write_text(PASSWORD + "\n", encoding="utf-8")
    key_dir = folder / "keys"
    key_dir.mkdir()
    ca = pki.make_ca("Packet Test CA")
    p12 = pki.pkcs12(key_dir / "signer.p12", pki.make_signer(ca, "Daniel Kim"), ca, b"pp")
    (key_dir / "pp.txt").write_bytes(b"pp\n")
    out = folder / "enc.pdf"
    result = cli(*packet_args(["fixtures/"], "C-7001", "claim", "Cascade Health Plan", out, "--from", "2026-09-01",
                              "--password-file", pw_file, "--sign-with", p12, "--passphrase-file", key_dir / "pp.txt"))
    assert result.exit_code == 0, result.output
    shown = run(tool("qpdf"), f"--password={PASSWORD}", "--show-encryption", out).stdout
    assert "R = 6" in shown and "AESv3" in shown and "RC4" not in shown, shown
    assert run(tool("qpdf"), "--check", out).returncode != 0  # no password: qpdf cannot open it
    assert run(tool("qpdf"), "--check", f"--password={PASSWORD}", out).returncode == 0
    reader = pypdf.PdfReader(out)
    assert reader.is_encrypted
    with pytest.raises(pypdf.errors.FileNotDecryptedError):
        reader.pages[0].extract_text()
    assert reader.decrypt("wrong") == pypdf.PasswordType.NOT_DECRYPTED
    assert reader.decrypt(PASSWORD) != pypdf.PasswordType.NOT_DECRYPTED
    assert "Client ID C-7001" in reader.pages[0].extract_text()
    reports = verify_pdf(out.read_bytes(), [ca.pem(key_dir / "ca.pem")], password=PASSWORD.encode())
    assert [(r.intact, r.modified_after, r.trusted) for r in reports] == [(True, False, True)]
    inspected = cli("inspect", out, "--password-file", pw_file, "--format", "json")
    assert inspected.exit_code == 0, inspected.output
    report = json.loads(inspected.stdout)
    assert report["encryption"]["algorithm"] == "AES-256" and report["encryption"]["R"] == 6
    assert [d["id"] for d in report["documents"]] == ["TP-7001", "PN-7001-01"]
    assert {a["name"] for a in report["attachments"]} == {"records.json", "manifest.json"}
    assert [s["ok"] for s in report["signatures"]] == [True]
    locked = cli("inspect", out)
    assert locked.exit_code == 1 and "password required" in locked.output
    verified = cli("verify", out, "--trust", key_dir / "ca.pem", "--password-file", pw_file, "--format", "json")
    assert verified.exit_code == 0, verified.output
    assert [s["intact"] for s in json.loads(verified.stdout)["signatures"]] == [True]
    assert cli("verify", out, "--trust", key_dir / "ca.pem").exit_code == 2  # encrypted: no password, no reading


def test_qpdf_check_passes(claim, part2):
    for path in (claim[0], part2[0]):
        check = run(tool("qpdf"), "--check", path)
        assert check.returncode == 0, check.stdout + check.stderr
        assert "No syntax or stream encoding errors found" in check.stdout


def test_inspect_reads_what_pypdf_reads(claim):
    """inspect reads the packet itself, within bounds; what it finds is what pypdf finds."""
    out, reader, manifest = claim
    result = cli("inspect", out, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    import hashlib

    assert report["pages"] == len(reader.pages) and report["manifest"] == manifest
    assert report["attachments"] == [{"name": name, "size": len(blob), "sha256": hashlib.sha256(blob).hexdigest()}
                                     for name, blobs in sorted(reader.attachments.items()) for blob in blobs]
    assert report["outline"] == [{"title": str(item.title), "page": reader.get_destination_page_number(item) + 1}
                                 for item in reader.outline if not isinstance(item, list)]
    assert [d["id"] for d in report["documents"]] == ["TP-7001", "PN-7001-01"]
    text = cli("inspect", out)
    assert text.exit_code == 0 and "TP-7001" in text.stdout and "manifest.json" in text.stdout


# --- not a packet (issue #11) ----------------------------------------------------------------------
def _with_attachment(pdf: bytes, name: str, data: bytes) -> bytes:
    import io

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf)))
    writer.add_attachment(name, data)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_inspect_says_when_a_pdf_is_not_a_packet(folder):
    [rendered] = api.render([ROOT / "fixtures/plans/plan-adult-mdd-complete.yaml"], folder / "plain",
                            formats=("pdf",), as_of=date(2026, 11, 24))
    plain = rendered.files[0]
    fake = {"documents": [{"id": "TP-1", "kind": "treatment_plan", "date": "2026-01-01", "status": "final",
                           "first_page": "one", "pages": 1, "content_sha256": "0" * 64}],
            "packet_id": "P-1", "docgen": "0.1.0"}
    cases = {
        plain: "no manifest.json attachment",
        folder / "other-manifest.pdf": "its manifest.json is not a packet manifest",
        folder / "bad-documents.pdf": "its manifest.json is not a packet manifest",
        folder / "not-json.pdf": "its manifest.json is not a packet manifest",
    }
    (folder / "other-manifest.pdf").write_bytes(_with_attachment(plain.read_bytes(), "manifest.json", b'{"a": 1}'))
    (folder / "bad-documents.pdf").write_bytes(_with_attachment(plain.read_bytes(), "manifest.json",
                                                                json.dumps(fake).encode()))
    (folder / "not-json.pdf").write_bytes(_with_attachment(plain.read_bytes(), "manifest.json", b"\xff{"))
    for path, why in cases.items():
        for fmt in ("text", "json"):
            result = cli("inspect", path, "--format", fmt)
            assert result.exit_code == 1, (path.name, result.output)
            assert result.stdout == ""
            assert result.stderr.strip() == f"docgen inspect: {path}: not a docgen packet: {why}", result.stderr
        with pytest.raises(NotAPacket, match=f"^{re.escape(str(path))}: not a docgen packet: {re.escape(why)}$"):
            api.inspect(path)


# --- hostile PDFs (issue #12) ----------------------------------------------------------------------
HOSTILE = {
    "page-tree loop": (hostile.page_tree_loop, "the page tree loops back on itself"),
    "200,000 nested arrays": (hostile.deep_arrays, "objects nested deeper than"),
    "attachment bomb": (hostile.attachment_bomb, "attachment file-00.json inflates to more than"),
    "attachment swarm": (hostile.attachment_swarm, "the attachments inflate to more than"),
}


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    files = {}
    for n, (case, (make, _why)) in enumerate(HOSTILE.items()):
        files[case] = folder / f"hostile-{n}.pdf"
        files[case].write_bytes(make())
    return files


def test_the_peak_measured_is_the_commands_own_not_the_test_processes():
    """Linux keeps a forked child's resident peak across exec, so a child forked from a large pytest
    process reported pytest's size (510 MB in CI) for a command that needs a fraction of it."""
    ballast = b"\x01" * (700 << 20)  # touched pages: this process's resident size passes 700 MiB
    done = hostile.run_bounded("--version")
    assert ballast[-1] == 1
    assert done.code == 0 and "docgen" in done.stdout
    assert done.peak_mb < 200, done.peak_mb


@pytest.mark.parametrize("command", ["inspect", "verify"])
@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_pdfs_give_one_line_in_bounded_time_and_memory(hostile_files, case, command):
    path = hostile_files[case]
    why = HOSTILE[case][1]
    done = hostile.run_bounded(command, path)
    assert done.code == 2, (done.code, done.stdout[-500:], done.stderr[-2000:])
    assert "Traceback" not in done.stderr and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-2000:]
    assert lines[0].startswith(f"docgen {command}: {path}: unsafe PDF: ") and why in lines[0], lines[0]
    assert done.seconds < 10, done.seconds
    assert done.peak_mb < 200, done.peak_mb  # about 50-65 MB measured


def test_a_past_period_is_judged_on_the_documents_dates_not_the_disclosure_date(folder):
    """Issue #13: an audit packet for September-November, disclosed in January after TP-7001's review date
    (2026-12-21), is built: the plan was current on its own date. `docgen check` of the same plan as of
    that January day still flags the overdue review (current records are judged as of --as-of)."""
    out = folder / "audit-later.pdf"
    result = cli("packet", "fixtures/", "--client", "C-7001", "--purpose", "audit", "--recipient",
                 "Cascade Health Plan", "--from", "2026-09-01", "--to", "2026-11-24", "--as-of", "2027-01-15",
                 "--out", out)
    assert result.exit_code == 0, result.output
    manifest = json.loads(pypdf.PdfReader(out).attachments["manifest.json"][0])
    assert [d["id"] for d in manifest["documents"]] == ["TP-7001", "PN-7001-01"]
    assert manifest["disclosure_date"] == "2027-01-15"
    checked = cli("check", C7001[0], "--as-of", "2027-01-15", "--format", "json")
    assert checked.exit_code == 1
    [record] = json.loads(checked.stdout)["records"]
    assert [(f["rule"], f["message"]) for f in record["findings"]] == [
        ("plan-review", "review was due 2026-12-21 and is past (as of 2027-01-15)")]


# --- a note's diagnoses, evaluation, prognosis and safety plan follow the purpose, pages and JSON alike --
def _note_with_every_section(folder: Path) -> tuple[str, str]:
    import yaml

    import builders

    crisis = yaml.safe_load((ROOT / "fixtures/notes/note-crisis-90839-90840-birp-complete.yaml").read_text())
    plan, note = builders.plan_dict(), builders.note_dict()
    note["safety_plan"] = crisis["safety_plan"]
    note["diagnoses"] = [{"code": "F33.1", "description": "Major depressive disorder, recurrent, moderate"}]
    note["prognosis"] = "PROGNOSIS-MARKER-7301: fair with continued weekly CBT."
    folder.mkdir()
    (folder / "plan.json").write_text(json.dumps(plan, default=str), encoding="utf-8")
    (folder / "note.json").write_text(json.dumps(note, default=str), encoding="utf-8")
    return plan["client"]["id"], plan["payer"]["name"]


@pytest.mark.parametrize("purpose, shown", [
    ("claim", {"diagnoses", "prognosis"}),  # what supports the claim; the safety plan is not needed for it
    ("audit", {"diagnoses", "prognosis", "safety_plan"}),  # the complete record as documented
])
def test_a_notes_sections_follow_the_purpose_on_the_pages_and_in_the_json(tmp_path, purpose, shown):
    client, payer = _note_with_every_section(tmp_path / "records")
    built = build_packet([tmp_path / "records"], client, purpose, payer, date(2026, 1, 1), date(2026, 11, 24),
                         disclosure=date(2026, 11, 24))
    reader = pypdf.PdfReader(__import__("io").BytesIO(built.pdf))
    [note_doc] = [d for d in built.manifest["documents"] if d["kind"] == "progress_note"]
    first = note_doc["first_page"] - 1
    note_pages = ws(" ".join(p.extract_text() for p in reader.pages[first:first + note_doc["pages"]]))
    on_pages = {"diagnoses": "Major depressive disorder, recurrent, moderate" in note_pages,
                "prognosis": "PROGNOSIS-MARKER-7301" in note_pages, "safety_plan": "Warning signs" in note_pages}
    [note] = [r for r in json.loads(reader.attachments["records.json"][0])["records"] if r["kind"] == "progress_note"]
    in_json = {name: name in note for name in on_pages}
    assert on_pages == {name: name in shown for name in on_pages}
    assert in_json == on_pages  # the JSON discloses no more, and no less, than the pages


def test_an_agency_name_with_control_characters_keeps_every_metadata_packet_well_formed(tmp_path):
    """The agency's name is each document's author. A control character in it (XML 1.0 forbids it)
    went raw into the DOCX's core.xml (Word refuses the file) and the PDF's and the packet's XMP (no
    longer PDF/A); it is shown by its code point, as in the pages, and Info agrees with XMP."""
    import io
    import xml.dom.minidom
    import zipfile

    import builders

    plan = builders.plan_dict()
    plan["agency"]["name"] = "River\x01side <&> \x0bClinic"
    shown = "River[U+0001]side <&> [U+000B]Clinic"
    (tmp_path / "records").mkdir()
    (tmp_path / "records" / "plan.json").write_text(json.dumps(plan, default=str), encoding="utf-8")
    out = tmp_path / "out"
    rendered = api.render([tmp_path / "records"], out, as_of=date(2026, 11, 24), allow_draft=True)
    assert [r.outcome.value for r in rendered] == ["final"]
    core = zipfile.ZipFile(next(out.rglob("*.docx"))).read("docProps/core.xml")
    creator = xml.dom.minidom.parseString(core).getElementsByTagName("dc:creator")[0]  # noqa: S318 - ours
    assert creator.firstChild.data == shown

    def author(pdf: bytes) -> tuple[str, str]:
        reader = pypdf.PdfReader(io.BytesIO(pdf))
        metadata = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
        xmp = xml.dom.minidom.parseString(metadata)  # noqa: S318 - docgen's own output
        creators = xmp.getElementsByTagName("dc:creator")[0].getElementsByTagName("rdf:li")
        return reader.metadata["/Author"], creators[0].firstChild.data

    assert author(next(out.rglob("*.pdf")).read_bytes()) == (shown, shown)
    built = build_packet([tmp_path / "records"], plan["client"]["id"], "audit", "Auditor", date(2026, 1, 1),
                         date(2026, 11, 24), disclosure=date(2026, 11, 24))
    assert author(built.pdf) == (shown, shown)
