"""NPIs printed where a reader (and a payer) looks for them, and an agency's logo in the PDF header
(issue #14): the agency's NPI in the header of every page and on a packet's cover, each clinician's
NPI by their signature; ``logo`` in pdf-style.toml, checked before any record is rendered."""
from __future__ import annotations

import io
import shutil

import pypdf
import pytest

import builders
from docgen import api
from render_helpers import FIXTURES, ROOT, DocxView, PdfView, invoke, reading_words, run, tool

TP5001 = FIXTURES / "plans" / "plan-tx-medicaid-sud-part2-complete.json"
AGENCY_NPI, CLINICIAN_NPI = "1811046392", "1467731209"


@pytest.fixture(scope="module")
def tp5001(tmp_path_factory):
    out = tmp_path_factory.mktemp("npi")
    [rendered] = api.render([TP5001], out, as_of=builders.AS_OF)
    return PdfView(out / "TP-5001.pdf"), DocxView(out / "TP-5001.docx"), rendered.result.record


def test_the_agency_npi_is_in_the_header_of_every_page(tp5001):
    pdf, docx, record = tp5001
    assert record.agency.npi == AGENCY_NPI
    for page in pdf.pages:
        assert f"NPI {AGENCY_NPI}" in page
    assert any(f"NPI {AGENCY_NPI}" in line for line in docx.header)


def test_a_clinicians_npi_is_printed_by_their_signature(tp5001):
    pdf, docx, record = tp5001
    author = record.author
    assert author.npi == CLINICIAN_NPI
    signatures = pdf.text[pdf.text.rindex("Signatures"):]
    assert f"NPI {CLINICIAN_NPI}" in signatures.split(author.name, 1)[1].split("Client")[0]  # in their block
    paragraphs = docx.paragraphs[docx.paragraphs.index("Signatures"):]
    signed = next(p for p in paragraphs if author.name in p)
    assert signed.split("\n")[1] == f"NPI {CLINICIAN_NPI}"


def test_the_claim_packet_cover_names_the_agency_and_its_clinicians_npis():
    from docgen.packet import build_packet

    packet = build_packet([TP5001, FIXTURES / "notes" / "note-tx-sud-group-90853-girp-complete.json"],
                          client="C-5001", purpose="claim", recipient="Superior HealthPlan", disclosure=builders.AS_OF)
    cover = pypdf.PdfReader(io.BytesIO(packet.pdf)).pages[0].extract_text()
    words = " ".join(reading_words(cover))
    assert f"NPI {AGENCY_NPI}" in words and f"NPI {CLINICIAN_NPI}" in words


# --- the logo ---------------------------------------------------------------------------------------
def _templates(tmp_path, logo_line: str):
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "docgen" / "templates", templates)
    style = templates / "pdf-style.toml"
    style.write_text(style.read_text(encoding="utf-8") + logo_line + "\n", encoding="utf-8")
    return templates


def _logo(path, size=(240, 80), fmt="PNG"):
    from PIL import Image

    image = Image.new("RGB", size, (0x1F, 0x4E, 0x79))
    for x in range(size[0] // 2):
        for y in range(size[1]):
            image.putpixel((x, y), (0xE0, 0x80, 0x10))  # orange left half: findable on the page
    image.save(path, fmt)
    return path


def test_a_logo_is_drawn_in_the_pdf_header_of_every_page(tmp_path):
    from PIL import Image

    templates = _templates(tmp_path, 'logo = "logo.png"')
    _logo(templates / "logo.png")
    out = tmp_path / "out"
    result = invoke("render", FIXTURES / "plans" / "plan-adult-mdd-complete.yaml", "--out", out, "--templates",
                    templates, "--as-of", "2026-11-24")
    assert result.exit_code == 0, result.output + result.stderr
    pdf = PdfView(out / "TP-1001.pdf")
    for page in pdf.reader.pages:  # one image, in the header's band, every page
        images = [x.get_object() for x in page["/Resources"]["/XObject"].values()
                  if x.get_object()["/Subtype"] == "/Image"]
        assert len(images) == 1
    done = run(tool("pdftoppm"), "-r", "36", "-f", "2", "-l", "2", "-png", "-singlefile", out / "TP-1001.pdf",
               tmp_path / "page")
    assert done.returncode == 0
    with Image.open(tmp_path / "page.png") as image:
        rgb = image.convert("RGB")
        orange = [(x, y) for x in range(rgb.width) for y in range(rgb.height) if rgb.getpixel((x, y)) == (224, 128, 16)
                  or (abs(rgb.getpixel((x, y))[0] - 224) < 12 and abs(rgb.getpixel((x, y))[1] - 128) < 12
                      and rgb.getpixel((x, y))[2] < 40)]
    assert orange and max(y for _, y in orange) < rgb.height * 0.09  # at the top: the header
    assert min(x for x, _ in orange) >= int(0.8 * 36) - 1  # from the left margin
    # the agency's name moves right of the logo: nothing overlaps
    header = [r for r in pdf.placed(1) if r[0] == "Riverside Community Counseling"]
    assert header and header[0][1] > 0.8 * 72 + 20
    # the DOCX is the template's own: unchanged
    assert not [n for n in DocxView(out / "TP-1001.docx").parts() if n.startswith("word/media/")]


@pytest.mark.parametrize(("logo_line", "make"), [
    ('logo = "missing.png"', None),
    ('logo = "logo.png"', lambda p: p.write_bytes(b"not an image at all")),
    ('logo = "logo.png"', lambda p: _logo(p, (6000, 40))),  # too many pixels across
    ('logo = "logo.png"', lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * (3 * 1024 * 1024))),  # too big
    ('logo = "logo.gif"', lambda p: _logo(p.with_name("logo.gif"), fmt="GIF")),  # not PNG or JPEG
    ('logo = "../outside.png"', lambda p: _logo(p.parent.parent / "outside.png")),  # outside the templates folder
    ("logo = 42", None),
])
def test_a_bad_logo_is_one_usage_line_naming_the_key(tmp_path, logo_line, make):
    templates = _templates(tmp_path, logo_line)
    if make is not None:
        make(templates / "logo.png")
    result = invoke("render", FIXTURES / "plans" / "plan-adult-mdd-complete.yaml", "--out", tmp_path / "out",
                    "--templates", templates, "--as-of", "2026-11-24", "--format", "pdf")
    assert result.exit_code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert "logo" in line and "pdf-style.toml" in line, line
    assert not (tmp_path / "out").exists()


def test_a_jpeg_logo_is_accepted(tmp_path):
    from docgen.render.style import PdfStyle

    templates = _templates(tmp_path, 'logo = "brand/logo.jpg"')
    (templates / "brand").mkdir()
    _logo(templates / "brand" / "logo.jpg", fmt="JPEG")
    style = PdfStyle.load(templates / "pdf-style.toml")
    assert style.logo == str((templates / "brand" / "logo.jpg").resolve())
