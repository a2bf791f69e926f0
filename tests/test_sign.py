"""Certificate signatures: `docgen sign`, `docgen verify`, `render/batch --sign-with`, and the API under them.

Certificates are made at test time (tests/pki.py): a CA, signers it issued (digitalSignature +
nonRepudiation), an expired and a not-yet-valid one, one not meant for signing, one without key
usage, one with a 1024-bit RSA key, and a second CA that trusts none of them. Every case opens the
PDF and reads its signatures; pyHanko's own validator is asked too, and must agree with `docgen
verify` (where docgen is stricter, e.g. the shadow attack, the test says so).
"""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12 as p12
from pypdf import PdfReader

import pki
from docgen import api
from docgen.sign import ROLES, SigningError, load_key, sign_pdf, verdict, verify_pdf
from test_cli import invoke  # the CLI in-process: stdout and stderr apart, no traceback

ROOT = Path(__file__).resolve().parent.parent
PLAN = ROOT / "fixtures" / "plans" / "plan-adult-mdd-complete.yaml"
COSIGNED = ROOT / "fixtures" / "plans" / "plan-ny-medicaid-lmsw-cosigned-complete.yaml"  # has a sig_supervisor field
INCOMPLETE = ROOT / "fixtures" / "plans" / "plan-tx-medicaid-late-incomplete.yaml"
AS_OF = date(2026, 11, 24)
SECRET = b"correct horse 7!"  # the right passphrase: must never be printed
WRONG = b"wrong-pass-Z9q"
DOCGEN = Path(sys.executable).with_name("docgen")


# --- throw-away PKI and a rendered plan, made once for the module ----------------------------------
class PKI:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ca = pki.make_ca("docgen Test Root CA")
        self.other_ca = pki.make_ca("Some Other CA")
        self.ca_pem = self.ca.pem(folder / "ca.pem")
        self.other_pem = self.other_ca.pem(folder / "other-ca.pem")
        clinician = pki.make_signer(self.ca, "Daniel Kim")
        supervisor = pki.make_signer(self.ca, "Sam Rivera")
        self.clinician = pki.pkcs12(folder / "clinician.p12", clinician, self.ca, SECRET)
        self.supervisor = pki.pkcs12(folder / "supervisor.p12", supervisor, self.ca, SECRET)
        self.expired = pki.pkcs12(folder / "expired.p12", pki.make_signer(
            self.ca, "Old Cert", not_before=pki.NOW - timedelta(days=400), not_after=pki.NOW - timedelta(days=2)),
            self.ca, SECRET)
        self.future = pki.pkcs12(folder / "future.p12", pki.make_signer(
            self.ca, "Early Cert", not_before=pki.NOW + timedelta(days=10)), self.ca, SECRET)
        self.not_signing = pki.pkcs12(folder / "tls.p12", pki.make_signer(self.ca, "TLS Only", signing=False),
                                      self.ca, SECRET)
        self.no_usage = pki.pkcs12(folder / "no-usage.p12", pki.make_signer(self.ca, "No Usage", key_usage=False),
                                   self.ca, SECRET)
        self.weak = pki.pkcs12(folder / "weak.p12", pki.make_signer(self.ca, "Short Key", bits=1024), self.ca, SECRET)
        self.key_only = folder / "key-only.p12"
        self.key_only.write_bytes(p12.serialize_key_and_certificates(
            b"k", clinician.key, None, None, serialization.BestAvailableEncryption(SECRET)))
        self.passfile = folder / "pass.txt"
        self.passfile.write_bytes(SECRET + b"\n")
        self.wrongfile = folder / "wrong.txt"
        self.wrongfile.write_bytes(WRONG + b"\n")


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> PKI:
    return PKI(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def plan_pdf(tmp_path_factory) -> bytes:
    out = tmp_path_factory.mktemp("rendered")
    [rendered] = api.render([PLAN], out, formats=("pdf",), as_of=AS_OF)
    assert rendered.outcome.value == "final"
    return rendered.files[0].read_bytes()


@pytest.fixture(scope="module")
def signed(keys, plan_pdf) -> bytes:
    """The plan signed once, by the clinician."""
    return sign_pdf(plan_pdf, keys.clinician, SECRET, role="clinician")


def verify_json(path: Path, *trust: Path):
    args = ["verify", path, "--format", "json"]
    for t in trust:
        args += ["--trust", t]
    result = invoke(*args)
    return result.exit_code, json.loads(result.stdout)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --- reading a PDF ourselves ---------------------------------------------------------------------
def signature_widgets(data: bytes) -> dict[str, dict]:
    """Signature fields found through the pages' widgets: name -> page index, /Rect, signed or not,
    and the signature dictionary."""
    found = {}
    reader = PdfReader(io.BytesIO(data))
    for index, page in enumerate(reader.pages):
        for ref in page.get("/Annots") or []:
            annot = ref.get_object()
            field = annot if "/T" in annot else annot.get("/Parent", {}).get_object()
            if field.get("/FT") != "/Sig":
                continue
            value = field.get("/V")
            found[str(field["/T"])] = {"page": index, "rect": [float(v) for v in annot["/Rect"]],
                                       "mediabox": [float(v) for v in page.mediabox],
                                       "signed": value is not None,
                                       "sig": value.get_object() if value is not None else None}
    return found


def pyhanko_statuses(data: bytes, ca: pki.Issued):
    """pyHanko's own validator, trusting the test CA, with its defaults otherwise."""
    from asn1crypto import x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    root = x509.Certificate.load(ca.cert.public_bytes(serialization.Encoding.DER))
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    return {s.field_name: validate_pdf_signature(s, ValidationContext(trust_roots=[root]))
            for s in reader.embedded_regular_signatures}


def tamper_signed_byte(data: bytes) -> bytes:
    """One byte changed inside the signed byte range: a letter of the signature's /Reason."""
    widget = signature_widgets(data)["sig_clinician"]
    a, b, c, d = (int(v) for v in widget["sig"]["/ByteRange"])
    at = data.rindex(b"Signed as Clinician") + len(b"Signed as ")
    assert a <= at < a + b or c <= at < c + d, "the byte must be one the signature covers"
    return data[:at] + b"X" + data[at + 1:]


def add_annotation(data: bytes) -> bytes:
    """An incremental update that adds a text annotation to the first page (no signature)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    page_ref, _ = writer.find_page_for_modification(0)
    page = page_ref.get_object()
    annot = writer.add_object(generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Annot"),
        generic.NameObject("/Subtype"): generic.NameObject("/Text"),
        generic.NameObject("/Rect"): generic.ArrayObject([generic.NumberObject(v) for v in (40, 40, 70, 70)]),
        generic.NameObject("/Contents"): generic.TextStringObject("added after signing"),
    }))
    if "/Annots" in page:
        page["/Annots"].append(annot)
    else:
        page["/Annots"] = generic.ArrayObject([annot])
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _name(value: str):
    from pyhanko.pdf_utils.generic import pdf_name

    return pdf_name(value)


def cover_page(data: bytes, how: str) -> bytes:
    """The shadow attack: an incremental update that puts over the whole first page an annotation
    whose appearance paints it white and writes "PLAN REVOKED" on it. ``how``: a new signature
    field that is its own widget ("field"), a new signature field with the widget as its kid
    ("kid"), or a free-text annotation ("freetext", which pyHanko itself flags)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    page_ref, _ = writer.find_page_for_modification(0)
    page = page_ref.get_object()
    x0, y0, x1, y1 = (float(v) for v in page["/MediaBox"])
    font = writer.add_object(generic.DictionaryObject({
        _name("/Type"): _name("/Font"), _name("/Subtype"): _name("/Type1"), _name("/BaseFont"): _name("/Helvetica")}))
    paint = b"1 1 1 rg 0 0 %d %d re f BT /F1 28 Tf 0 0 0 rg 72 600 Td (PLAN REVOKED) Tj ET" % (x1 - x0, y1 - y0)
    appearance = writer.add_object(generic.StreamObject({
        _name("/Type"): _name("/XObject"), _name("/Subtype"): _name("/Form"),
        _name("/BBox"): generic.ArrayObject([generic.FloatObject(v) for v in (0, 0, x1 - x0, y1 - y0)]),
        _name("/Resources"): generic.DictionaryObject({_name("/Font"): generic.DictionaryObject({_name("/F1"): font})}),
    }, stream_data=paint))
    annot = generic.DictionaryObject({
        _name("/Type"): _name("/Annot"), _name("/Subtype"): _name("/Widget"), _name("/F"): generic.NumberObject(4),
        _name("/P"): page_ref, _name("/Rect"): generic.ArrayObject([generic.FloatObject(v) for v in (x0, y0, x1, y1)]),
        _name("/AP"): generic.DictionaryObject({_name("/N"): appearance})})
    field = None
    if how == "field":
        annot[_name("/FT")] = _name("/Sig")
        annot[_name("/T")] = generic.TextStringObject("sig_other")
        annot_ref = field = writer.add_object(annot)
    elif how == "kid":
        field = writer.add_object(generic.DictionaryObject({
            _name("/FT"): _name("/Sig"), _name("/T"): generic.TextStringObject("sig_other")}))
        annot[_name("/Parent")] = field
        annot_ref = writer.add_object(annot)
        field.get_object()[_name("/Kids")] = generic.ArrayObject([annot_ref])
    else:
        annot[_name("/Subtype")] = _name("/FreeText")
        annot[_name("/Contents")] = generic.TextStringObject("PLAN REVOKED")
        annot[_name("/DA")] = generic.TextStringObject("/Helv 28 Tf 0 g")
        annot_ref = writer.add_object(annot)
    if "/Annots" in page:
        page["/Annots"].append(annot_ref)
    else:
        page["/Annots"] = generic.ArrayObject([annot_ref])
    writer.update_container(page)
    if field is not None:
        form = writer.root["/AcroForm"]
        form["/Fields"].append(field)
        writer.update_container(form)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def sign_over_the_page(data: bytes, key: Path) -> bytes:
    """The shadow attack signed: a second signature (any key) in a NEW field as large as the first page."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import TextStampStyle

    meta = signers.PdfSignatureMetadata(field_name="sig_other", md_algorithm="sha256",
                                        subfilter=fields.SigSeedSubFilter.PADES)
    pdf_signer = signers.PdfSigner(meta, signer=load_key(key, SECRET).cms_signer,
                                   stamp_style=TextStampStyle(stamp_text="PLAN REVOKED"),
                                   new_field_spec=fields.SigFieldSpec("sig_other", on_page=0, box=(0, 0, 612, 792)))
    return pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(data))).getvalue()


def ink(data: bytes, page: int = 1) -> float:
    """The share of a page that is not white, as poppler renders it (annotations included)."""
    from PIL import Image

    done = subprocess.run([shutil.which("pdftoppm") or "pdftoppm", "-f", str(page), "-l", str(page), "-r", "30",
                           "-gray", "-"], input=data, capture_output=True, timeout=60, check=True)
    image = Image.open(io.BytesIO(done.stdout))
    histogram = image.histogram()
    return 1 - sum(histogram[240:]) / sum(histogram)


def change_title(data: bytes) -> bytes:
    """An incremental update that only changes the document's title (its /Info)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    info = writer.trailer["/Info"]
    info["/Title"] = generic.TextStringObject("Treatment Plan TP-9999")
    writer.update_container(info)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def with_empty_fields(data: bytes, boxes: dict[str, tuple[int, int, int, int]]) -> bytes:
    """What the renderer does: empty signature fields sig_<role> on the last page."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.fields import SigFieldSpec, append_signature_field

    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    for name, box in boxes.items():
        append_signature_field(writer, SigFieldSpec(name, on_page=-1, box=box))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- sign, then verify ---------------------------------------------------------------------------
def test_sign_then_verify_is_valid_trusted_and_names_signer_and_role(keys, plan_pdf, tmp_path):
    source = write(tmp_path / "plan.pdf", plan_pdf)
    result = invoke("sign", source, "--key", keys.clinician, "--passphrase-file", keys.passfile,
                    "--role", "clinician", "--out", tmp_path / "signed.pdf")
    assert result.exit_code == 0, result.stderr
    assert "Daniel Kim" in result.stdout and "sig_clinician" in result.stdout
    data = (tmp_path / "signed.pdf").read_bytes()
    assert data.startswith(plan_pdf), "an incremental update: the rendered bytes come first, unchanged"
    code, report = verify_json(tmp_path / "signed.pdf", keys.ca_pem)
    assert code == 0 and report["ok"] is True and report["trust_checked"] is True
    [sig] = report["signatures"]
    assert sig["field"] == "sig_clinician" and sig["role"] == "clinician"
    assert sig["signer"] == "Daniel Kim" and "Daniel Kim" in sig["subject"]
    assert (sig["intact"], sig["modified_after"], sig["trusted"], sig["trust"]) == (True, False, True, "trusted")
    assert sig["problem"] == "" and sig["signing_time"].startswith(str(date.today().year))
    text = invoke("verify", tmp_path / "signed.pdf", "--trust", keys.ca_pem)
    assert text.exit_code == 0 and "VALID" in text.stdout and "Daniel Kim" in text.stdout
    assert "trusted" in text.stdout
    # what the signature says about itself, read straight from the PDF
    widget = signature_widgets(data)["sig_clinician"]
    assert widget["sig"]["/SubFilter"] == "/ETSI.CAdES.detached" and widget["sig"]["/Reason"] == "Signed as Clinician"


def test_no_trust_given_means_trust_not_checked(keys, signed, tmp_path):
    code, report = verify_json(write(tmp_path / "s.pdf", signed))
    assert code == 0 and report["trust_checked"] is False
    [sig] = report["signatures"]
    assert sig["intact"] is True and sig["trusted"] is None and sig["trust"] == "not checked"
    assert "not checked" in invoke("verify", tmp_path / "s.pdf").stdout


def test_a_different_ca_does_not_trust_the_signer(keys, signed, tmp_path):
    code, report = verify_json(write(tmp_path / "s.pdf", signed), keys.other_pem)
    assert code == 1 and report["ok"] is False
    [sig] = report["signatures"]
    assert sig["intact"] is True and sig["trusted"] is False and "not trusted" in sig["problem"]
    # both roots given: one of them is enough
    code, report = verify_json(tmp_path / "s.pdf", keys.other_pem, keys.ca_pem)
    assert code == 0 and report["signatures"][0]["trusted"] is True


def test_one_byte_changed_in_the_signed_range_is_not_intact(keys, signed, tmp_path):
    tampered = tamper_signed_byte(signed)
    assert len(tampered) == len(signed) and tampered != signed
    code, report = verify_json(write(tmp_path / "t.pdf", tampered), keys.ca_pem)
    assert code == 1 and report["ok"] is False
    [sig] = report["signatures"]
    assert sig["intact"] is False and "changed" in sig["problem"]
    assert invoke("verify", tmp_path / "t.pdf").exit_code == 1  # with or without trust roots


def test_an_annotation_added_after_signing_is_a_modification(keys, signed, tmp_path):
    changed = add_annotation(signed)
    assert changed.startswith(signed)
    code, report = verify_json(write(tmp_path / "a.pdf", changed), keys.ca_pem)
    assert code == 1
    [sig] = report["signatures"]
    assert sig["intact"] is True, "the signed revision itself is untouched"
    assert sig["modified_after"] is True and sig["modification"] == "OTHER"
    assert "changed after signing" in sig["problem"]


def test_changed_document_properties_after_signing_are_a_modification(keys, signed, tmp_path):
    """pyHanko lets /Info changes through; the title and keywords identify the record, so docgen does not."""
    changed = change_title(signed)
    assert PdfReader(io.BytesIO(changed)).metadata.title == "Treatment Plan TP-9999"
    code, report = verify_json(write(tmp_path / "m.pdf", changed), keys.ca_pem)
    assert code == 1
    [sig] = report["signatures"]
    assert sig["intact"] is True and sig["modified_after"] is True and sig["modification"] == "PROPERTIES"


@pytest.mark.parametrize("how", ["field", "kid", "freetext"])
def test_the_shadow_attack_an_appearance_over_the_page_is_a_modification(keys, signed, tmp_path, how):
    """Issue #12: a new signature field (or its widget) whose appearance covers the page, added after
    the signature, passed as "form filling" (VALID) while the page showed other content."""
    attacked = cover_page(signed, how)
    assert attacked.startswith(signed)
    assert ink(attacked) < ink(signed) / 2, "the attack really hides the signed page"
    assert "PLAN REVOKED" not in PdfReader(io.BytesIO(attacked)).pages[0].extract_text(), "only the overlay says it"
    path = write(tmp_path / "shadow.pdf", attacked)
    code, report = verify_json(path, keys.ca_pem)
    assert code == 1 and report["ok"] is False
    [sig] = report["signatures"]
    assert sig["intact"] is True, "the signed revision itself is untouched"
    assert sig["modified_after"] is True and sig["ok"] is False
    if how == "freetext":  # an annotation: pyHanko's own analysis already rejects it
        assert sig["modification"] == "OTHER"
    else:
        assert sig["modification"] == "OVERLAY" and "visible field" in sig["problem"]
    text = invoke("verify", path, "--trust", keys.ca_pem)
    assert text.exit_code == 1 and "NOT VALID" in text.stdout


def test_the_shadow_attack_signed_by_anyone_is_a_modification(keys, signed, tmp_path):
    """The new field over the page holds a real signature (here by a trusted key): the first
    signature is still modified after, so the document is not valid."""
    attacked = sign_over_the_page(signed, keys.supervisor)
    code, report = verify_json(write(tmp_path / "shadow.pdf", attacked), keys.ca_pem)
    assert code == 1
    first, second = report["signatures"]
    assert (first["field"], second["field"]) == ("sig_clinician", "sig_other")
    assert first["intact"] and first["modified_after"] and first["modification"] == "OVERLAY"
    assert second["ok"], "the last signature itself is fine: nothing came after it"


def test_a_changed_page_content_after_signing_is_a_modification(keys, signed, tmp_path):
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    page_ref, _ = writer.find_page_for_modification(0)
    page = page_ref.get_object()
    page["/Contents"] = writer.add_object(generic.StreamObject(stream_data=b"1 1 1 rg 0 0 612 792 re f"))
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    code, report = verify_json(write(tmp_path / "c.pdf", out.getvalue()), keys.ca_pem)
    assert code == 1
    [sig] = report["signatures"]
    assert sig["intact"] and sig["modified_after"] and sig["modification"] == "OTHER"


def test_cosigning_into_the_renderers_supervisor_field_stays_valid(keys, tmp_path):
    """The normal co-signing flow: the renderer placed an empty sig_supervisor; the supervisor signs
    into it after the clinician. Both signatures are valid; no field is added."""
    [rendered] = api.render([COSIGNED], tmp_path, formats=("pdf",), as_of=AS_OF)
    plan = rendered.files[0].read_bytes()
    before = signature_widgets(plan)
    assert {"sig_clinician", "sig_supervisor"} <= set(before) and not before["sig_supervisor"]["signed"]
    once = write(tmp_path / "once.pdf", sign_pdf(plan, keys.clinician, SECRET, role="clinician"))
    result = invoke("sign", once, "--key", keys.supervisor, "--passphrase-file", keys.passfile,
                    "--role", "supervisor", "--out", once)
    assert result.exit_code == 0, result.stderr
    twice = once.read_bytes()
    after = signature_widgets(twice)
    assert set(after) == set(before) and after["sig_supervisor"]["rect"] == before["sig_supervisor"]["rect"]
    code, report = verify_json(once, keys.ca_pem)
    assert code == 0, report
    assert [(s["field"], s["modification"], s["ok"]) for s in report["signatures"]] == [
        ("sig_clinician", "FORM_FILLING", True), ("sig_supervisor", "NONE", True)]
    assert all(s.bottom_line for s in pyhanko_statuses(twice, keys.ca).values())


@pytest.mark.parametrize("case", ["valid", "tampered", "annotated"])
def test_pyhankos_own_validator_agrees(keys, signed, case):
    data = {"valid": signed, "tampered": tamper_signed_byte(signed), "annotated": add_annotation(signed)}[case]
    ours = {r.field: r for r in verify_pdf(data, [keys.ca_pem])}
    theirs = pyhanko_statuses(data, keys.ca)
    assert set(ours) == set(theirs) == {"sig_clinician"}
    for name, status in theirs.items():
        mine = ours[name]
        assert mine.intact == (status.intact and status.valid)
        assert mine.trusted == status.trusted
        assert mine.modified_after == (status.modification_level.name == "OTHER")
        assert mine.ok == status.bottom_line
    assert all(r.ok for r in ours.values()) == (case == "valid")


def test_sign_twice_both_signatures_stay_valid(keys, signed, tmp_path):
    source = write(tmp_path / "once.pdf", signed)
    result = invoke("sign", source, "--key", keys.supervisor, "--passphrase-file", keys.passfile,
                    "--role", "supervisor", "--out", source)  # in place
    assert result.exit_code == 0, result.stderr
    twice = source.read_bytes()
    assert twice.startswith(signed), "the second signature is an incremental update"
    code, report = verify_json(source, keys.ca_pem)
    assert code == 0, report
    first, second = report["signatures"]
    assert (first["field"], first["signer"]) == ("sig_clinician", "Daniel Kim")
    assert (second["field"], second["signer"]) == ("sig_supervisor", "Sam Rivera")
    assert first["revision"] < second["revision"]
    for sig in (first, second):
        assert sig["intact"] and sig["trusted"] and not sig["modified_after"], sig
    assert first["modification"] == "FORM_FILLING" and second["modification"] == "NONE"
    statuses = pyhanko_statuses(twice, keys.ca)
    assert all(s.bottom_line for s in statuses.values()) and len(statuses) == 2
    widgets = signature_widgets(twice)
    assert widgets["sig_clinician"]["signed"] and widgets["sig_supervisor"]["signed"]
    # this plan has no sig_supervisor field: one made after a signature is invisible (a new visible
    # field after a signature is the shadow attack, which verify flags)
    assert _area(widgets["sig_supervisor"]["rect"]) == 0


# --- the visible field ---------------------------------------------------------------------------
def _area(rect) -> float:
    return abs(rect[2] - rect[0]) * abs(rect[3] - rect[1])


def _inside(rect, box) -> bool:
    return box[0] <= min(rect[0], rect[2]) and max(rect[0], rect[2]) <= box[2] and \
        box[1] <= min(rect[1], rect[3]) and max(rect[1], rect[3]) <= box[3]


def test_the_signature_is_visible_in_its_role_field(signed, plan_pdf):
    """Holds whether the renderer placed an empty sig_clinician (it is filled) or not (one is made)."""
    before = signature_widgets(plan_pdf)
    widget = signature_widgets(signed)["sig_clinician"]
    assert widget["signed"] and _area(widget["rect"]) > 0 and _inside(widget["rect"], widget["mediabox"])
    if "sig_clinician" in before:
        assert widget["rect"] == before["sig_clinician"]["rect"] and widget["page"] == before["sig_clinician"]["page"]
    reader = PdfReader(io.BytesIO(signed))
    annots = [a.get_object() for a in reader.pages[widget["page"]]["/Annots"]]
    [annot] = [a for a in annots if "sig_clinician" in (a.get("/T"), a.get("/Parent", {}).get("/T"))]
    appearance = annot["/AP"]["/N"].get_object().get_data()  # the stamp: signer, role, time
    assert b"Signed by Daniel Kim" in appearance and b"Clinician" in appearance
    assert str(date.today().year).encode() in appearance.replace(b"\\055", b"-")


def test_empty_fields_of_the_renderer_are_filled_in_role_order(keys, plan_pdf):
    rendered = signature_widgets(plan_pdf)  # the renderer's own empty fields on the signature blocks
    assert {name: w["signed"] for name, w in rendered.items()} == {"sig_clinician": False, "sig_client": False}
    first = sign_pdf(plan_pdf, keys.clinician, SECRET)  # no role: the first empty field, clinician first
    second = sign_pdf(first, keys.supervisor, SECRET)  # then the next empty one: the client's
    widgets = signature_widgets(second)
    assert {name: w["signed"] for name, w in widgets.items()} == {
        "sig_clinician": True, "sig_client": True}, "no new field was made"
    for name in ("sig_clinician", "sig_client"):
        assert widgets[name]["rect"] == rendered[name]["rect"] and widgets[name]["page"] == rendered[name]["page"]
    reports = verify_pdf(second, [keys.ca_pem])
    assert [(r.field, r.signer) for r in reports] == [("sig_clinician", "Daniel Kim"), ("sig_client", "Sam Rivera")]
    assert verdict(reports)


def test_fields_added_to_a_pdf_from_elsewhere_are_used_too(keys, plan_pdf):
    boxes = {"sig_supervisor": (300, 300, 520, 350), "sig_psychiatrist": (60, 300, 280, 350)}
    prepared = with_empty_fields(plan_pdf, boxes)
    signed = sign_pdf(prepared, keys.supervisor, SECRET, role="supervisor")
    widgets = signature_widgets(signed)
    assert widgets["sig_supervisor"]["signed"] and widgets["sig_supervisor"]["rect"] == [300.0, 300.0, 520.0, 350.0]
    assert not widgets["sig_psychiatrist"]["signed"]
    assert verdict(verify_pdf(signed, [keys.ca_pem]))


def test_a_new_field_avoids_the_others_and_is_invisible_once_the_document_is_signed(keys, plan_pdf):
    """A document without the role's field gets a visible one on the last page, in the first place of
    the grid that no widget covers (here a prepared field takes the first place). Once the document
    carries a signature, a new field is invisible: a new visible field after a signature is what the
    shadow attack looks like, and verify flags it. Every signature stays valid."""
    first_place = (58, 60, 298, 114)  # SIDE, BOTTOM of docgen.sign.pades, one slot wide and high
    data = with_empty_fields(plan_pdf, {"sig_guardian": first_place})
    data = sign_pdf(data, keys.clinician, SECRET, role="psychiatrist")  # no field yet, nothing signed: visible
    data = sign_pdf(data, keys.supervisor, SECRET, role="supervisor")  # no field, already signed: invisible
    data = sign_pdf(data, keys.clinician, SECRET, role="clinician")  # the renderer's empty field
    widgets = signature_widgets(data)
    made = widgets["sig_psychiatrist"]
    assert _area(made["rect"]) > 0 and _inside(made["rect"], made["mediabox"])
    for name, other in widgets.items():
        if name != "sig_psychiatrist" and other["page"] == made["page"]:
            a, b = made["rect"], other["rect"]
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), name
    assert widgets["sig_supervisor"]["signed"] and _area(widgets["sig_supervisor"]["rect"]) == 0
    reports = verify_pdf(data, [keys.ca_pem])
    assert [r.field for r in reports] == ["sig_psychiatrist", "sig_supervisor", "sig_clinician"]
    assert verdict(reports), [r.problem for r in reports]


def test_without_role_the_next_free_role_is_used(keys, signed):
    widgets = signature_widgets(signed)
    empties = [name for name, w in widgets.items() if not w["signed"]]
    again = sign_pdf(signed, keys.supervisor, SECRET)
    expected = next((f"sig_{r}" for r in ROLES if f"sig_{r}" in empties),
                    next(f"sig_{r}" for r in ROLES if f"sig_{r}" not in widgets))
    assert signature_widgets(again)[expected]["signed"]
    assert verify_pdf(again)[-1].field == expected


# --- errors: one line, nothing written, no passphrase ---------------------------------------------
# case -> (key, passphrase file, what the one line on stderr says)
SIGN_ERRORS = {
    "wrong passphrase": ("clinician", "wrongfile", "wrong passphrase for clinician.p12"),
    "expired": ("expired", "passfile", "expired on"),
    "not yet valid": ("future", "passfile", "not valid before"),
    "not a signing certificate": ("not_signing", "passfile", "not a signing certificate"),
    "no key usage": ("no_usage", "passfile", "has no key usage"),
    "RSA under 2048 bits": ("weak", "passfile", "1024-bit RSA key"),
    "key without certificate": ("key_only", "passfile", "without a signing certificate"),
    "not PKCS#12": ("ca_pem", "passfile", "is not a PKCS#12"),
    "not a PDF": ("clinician", "passfile", "not a PDF"),
    "already signed": ("clinician", "passfile", "field sig_clinician is already signed"),
    "no passphrase": ("clinician", None, "protected by a passphrase"),
}


@pytest.mark.parametrize("case", SIGN_ERRORS)
def test_sign_errors_are_one_line_and_write_nothing(keys, plan_pdf, signed, tmp_path, case):
    key_name, passfile_name, expect = SIGN_ERRORS[case]
    source = write(tmp_path / "in.pdf", {"already signed": signed, "not a PDF": b"%!PS-Adobe-3.0\nnot a pdf\n"}
                   .get(case, plan_pdf))
    key = getattr(keys, key_name)
    out = tmp_path / "out.pdf"
    args = ["sign", source, "--key", key, "--role", "clinician", "--out", out]
    if passfile_name:
        args += ["--passphrase-file", getattr(keys, passfile_name)]
    before = source.read_bytes()
    result = invoke(*args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("docgen sign: ") and expect in lines[0], result.stderr
    assert not out.exists() and source.read_bytes() == before
    assert list(tmp_path.glob(".*.tmp")) == []
    for secret in (SECRET, WRONG):
        assert secret.decode() not in result.stdout + result.stderr


def test_api_errors_are_signing_errors(keys, plan_pdf):
    with pytest.raises(SigningError, match="wrong passphrase"):
        load_key(keys.clinician, WRONG)
    with pytest.raises(SigningError, match="unknown role"):
        sign_pdf(plan_pdf, keys.clinician, SECRET, role="judge")
    with pytest.raises(SigningError, match="not a PDF"):
        verify_pdf(b"hello")
    with pytest.raises(SigningError, match="not a certificate"):
        verify_pdf(plan_pdf, [keys.passfile])


def test_passphrase_file_loses_one_trailing_newline_only(keys, plan_pdf, tmp_path):
    source = write(tmp_path / "in.pdf", plan_pdf)
    for n, content in enumerate((SECRET, SECRET + b"\r\n", SECRET + b"\n")):
        passfile = write(tmp_path / f"p{n}", content)
        assert invoke("sign", source, "--key", keys.clinician, "--passphrase-file", passfile,
                      "--out", tmp_path / f"o{n}.pdf").exit_code == 0
    two = write(tmp_path / "two", SECRET + b"\n\n")
    assert invoke("sign", source, "--key", keys.clinician, "--passphrase-file", two,
                  "--out", tmp_path / "o.pdf").exit_code == 2


def test_verify_exit_codes_for_unsigned_and_unreadable(plan_pdf, tmp_path):
    code, report = verify_json(write(tmp_path / "plain.pdf", plan_pdf))
    assert code == 1 and report == {"file": str(tmp_path / "plain.pdf"), "ok": False, "trust_checked": False,
                                    "signatures": []}
    assert "no signatures" in invoke("verify", tmp_path / "plain.pdf").stdout
    result = invoke("verify", write(tmp_path / "junk.pdf", b"PK\x03\x04 a zip, not a PDF"))
    assert result.exit_code == 2 and result.stderr.strip() == f"docgen verify: {tmp_path / 'junk.pdf'}: not a PDF"
    cut = write(tmp_path / "cut.pdf", plan_pdf[:200])
    result = invoke("verify", cut)
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1


# --- render and batch --sign-with ----------------------------------------------------------------
def test_render_signs_final_pdfs_and_never_drafts(keys, tmp_path):
    out = tmp_path / "out"
    result = invoke("render", PLAN, INCOMPLETE, "--out", out, "--format", "pdf", "--allow-draft",
                    "--as-of", AS_OF.isoformat(), "--sign-with", keys.clinician,
                    "--passphrase-file", keys.passfile, "--sign-role", "clinician")
    assert result.exit_code == 1  # one draft
    assert "drafts are never signed" in result.stdout
    final, draft = out / "TP-1001.pdf", out / "TP-5002.pdf"
    reports = verify_pdf(final.read_bytes(), [keys.ca_pem])
    assert verdict(reports) and [(r.field, r.signer) for r in reports] == [("sig_clinician", "Daniel Kim")]
    assert verify_pdf(draft.read_bytes()) == []
    assert "DRAFT" in PdfReader(draft).pages[0].extract_text()
    assert oct(final.stat().st_mode & 0o777) == "0o600"


def test_render_with_a_bad_key_renders_nothing(keys, tmp_path):
    out = tmp_path / "out"
    result = invoke("render", PLAN, "--out", out, "--format", "pdf", "--as-of", AS_OF.isoformat(),
                    "--sign-with", keys.clinician, "--passphrase-file", keys.wrongfile)
    assert result.exit_code == 2 and "wrong passphrase for clinician.p12" in result.stderr
    assert not any(out.glob("*.pdf"))
    assert WRONG.decode() not in result.stdout + result.stderr


@pytest.mark.parametrize("key_name, expect", [("weak", "1024-bit RSA key"), ("no_usage", "has no key usage")])
def test_keys_verify_would_not_trust_are_refused_before_rendering(keys, plan_pdf, tmp_path, key_name, expect):
    key = getattr(keys, key_name)
    # a signature made with such a key anyway (pyHanko directly, past docgen's checks) is not valid
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    cms = signers.SimpleSigner.load_pkcs12(str(key), passphrase=SECRET)
    made = signers.PdfSigner(signers.PdfSignatureMetadata(field_name="sig_clinician", md_algorithm="sha256"),
                             signer=cms).sign_pdf(IncrementalPdfFileWriter(io.BytesIO(plan_pdf))).getvalue()
    assert not verdict(verify_pdf(made, [keys.ca_pem]))
    # so docgen refuses the key before any work: exit 2, nothing rendered (`docgen sign`: see
    # SIGN_ERRORS; render reports it as a bad --sign-with value, after click's usage line)
    out = tmp_path / "out"
    result = invoke("render", PLAN, "--out", out, "--format", "pdf", "--as-of", AS_OF.isoformat(),
                    "--sign-with", key, "--passphrase-file", keys.passfile)
    assert result.exit_code == 2 and expect in result.stderr.strip().splitlines()[-1]
    assert not any(out.glob("*.pdf"))
    with pytest.raises(SigningError, match=expect):
        load_key(key, SECRET)


def _batch(cwd: Path, *extra) -> subprocess.CompletedProcess:
    return subprocess.run([str(DOCGEN), "batch", "in", "--out", "out", "--workers", "2", "--format", "pdf",
                           "--allow-draft", "--as-of", AS_OF.isoformat(), *map(str, extra)],
                          cwd=cwd, capture_output=True, text=True, timeout=180)


@pytest.mark.slow
def test_batch_signs_final_pdfs_and_the_manifest_hashes_the_signed_file(keys, tmp_path):
    import hashlib

    (tmp_path / "in").mkdir()
    for source in (PLAN, INCOMPLETE):
        shutil.copy(source, tmp_path / "in")
    unsigned = _batch(tmp_path)
    assert unsigned.returncode == 0, unsigned.stderr
    run = _batch(tmp_path, "--sign-with", keys.supervisor, "--passphrase-file", keys.passfile,
                 "--sign-role", "supervisor")
    assert run.returncode == 0, run.stderr
    assert "drafts are never signed" in run.stdout
    assert SECRET.decode() not in run.stdout + run.stderr
    rows = {r["id"]: r for r in map(json.loads, (tmp_path / "out" / "manifest.jsonl").read_text().splitlines())}
    assert rows["TP-1001"]["status"] == "final", "a signed run redoes what an unsigned run made"
    assert rows["TP-5002"]["status"] == "draft"
    for record_id, row in rows.items():
        [output] = row["outputs"]
        path = tmp_path / "out" / output["path"]
        data = path.read_bytes()
        assert output["sha256"] == hashlib.sha256(data).hexdigest() and output["bytes"] == len(data)
        reports = verify_pdf(data, [keys.ca_pem])
        if record_id == "TP-1001":
            assert verdict(reports) and [(r.field, r.signer) for r in reports] == [("sig_supervisor", "Sam Rivera")]
        else:
            assert reports == []
    again = _batch(tmp_path, "--sign-with", keys.supervisor, "--passphrase-file", keys.passfile,
                   "--sign-role", "supervisor")
    rows = {r["id"]: r for r in map(json.loads, (tmp_path / "out" / "manifest.jsonl").read_text().splitlines())}
    assert again.returncode == 0 and rows["TP-1001"]["status"] == "skipped"
    for name in ("manifest.jsonl", "manifest.csv", "audit.sqlite"):
        assert SECRET not in (tmp_path / "out" / name).read_bytes()


@pytest.mark.slow
def test_batch_with_a_bad_key_stops_before_any_work(keys, tmp_path):
    (tmp_path / "in").mkdir()
    shutil.copy(PLAN, tmp_path / "in")
    run = _batch(tmp_path, "--sign-with", keys.expired, "--passphrase-file", keys.passfile)
    assert run.returncode == 2 and "expired on" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.pdf"))


def test_the_cli_and_renderer_do_not_load_pyhanko():
    code = ("import sys, docgen.cli, docgen.render, docgen.api, docgen.batch, docgen.sign; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'pyhanko', 'pyhanko_certvalidator'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# --- no warning on stderr: cron mails it to an admin -----------------------------------------------
def _quiet_env() -> dict[str, str]:
    """The environment of a cron job: Python's default warning filters (no PYTHONWARNINGS)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}


def test_only_pyhankos_dsa_deprecation_warning_is_silenced():
    """pyHanko's import of cryptography's DSAPrivateKey warns (CryptographyDeprecationWarning) unless
    docgen.sign.pades was imported first; the same warning from anywhere else, and any other of
    cryptography's warnings, still shows."""
    warn = ("import warnings; from cryptography.utils import CryptographyDeprecationWarning as W; "
            "warnings.warn('DSA is deprecated, said elsewhere', W); warnings.warn('another deprecation', W)")
    bare = subprocess.run([sys.executable, "-c", "import pyhanko.sign.signers"], capture_output=True, text=True,
                          env=_quiet_env(), timeout=60)
    assert bare.returncode == 0 and "CryptographyDeprecationWarning: DSA is deprecated" in bare.stderr, \
        "pyHanko no longer triggers the warning: the filter in docgen/sign/pades.py can go"
    done = subprocess.run([sys.executable, "-c", f"import docgen.sign.pades, pyhanko.sign.signers; {warn}"],
                          capture_output=True, text=True, env=_quiet_env(), timeout=60)
    assert done.returncode == 0, done.stderr
    assert "pdf_cms" not in done.stderr and "from cryptography" not in done.stderr, done.stderr
    assert "DSA is deprecated, said elsewhere" in done.stderr and "another deprecation" in done.stderr


@pytest.mark.slow
def test_signing_commands_print_no_warning(keys, plan_pdf, tmp_path):
    """`docgen sign`, `docgen verify` and `docgen render --sign-with` as real processes: stderr is empty."""
    source = write(tmp_path / "plan.pdf", plan_pdf)
    commands = {
        "sign": ["sign", source, "--key", keys.clinician, "--passphrase-file", keys.passfile, "--role", "clinician",
                 "--out", tmp_path / "signed.pdf"],
        "verify": ["verify", tmp_path / "signed.pdf", "--trust", keys.ca_pem],
        "render --sign-with": ["render", PLAN, "--out", tmp_path / "out", "--format", "pdf", "--as-of",
                               AS_OF.isoformat(), "--sign-with", keys.clinician, "--passphrase-file", keys.passfile],
    }
    for name, args in commands.items():
        done = subprocess.run([str(DOCGEN), *map(str, args)], capture_output=True, text=True, env=_quiet_env(),
                              cwd=tmp_path, timeout=120)
        assert done.returncode == 0, (name, done.stdout, done.stderr)
        assert "Warning" not in done.stderr and done.stderr.strip() == "", (name, done.stderr)
