"""A stream whose data ends with a carriage return, written by pypdf (packets) or pyHanko (signatures),
read one byte short of its /Length: PDF/A validators failed such files (about one signed PDF in a
hundred, depending on the signing time). docgen mends both writers (``docgen.render.pdf.stream_ends``)."""
from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

import builders
from docgen import api
from test_accessible import page_failures


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return api.render_record(builders.plan_dict(), formats=("pdf",), as_of=date(2026, 11, 24)).documents["pdf"]


def _length_failures(data: bytes) -> list[str]:
    return [f for f in page_failures(data, "2a") if "STREAM-LENGTH" in f]


@pytest.mark.parametrize("data", [b"abc\r", b"abc\r\r", b"abc\n", b"abc", b"\r"])
def test_pyhanko_streams_ending_with_cr_keep_their_length(pdf, data):
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    from docgen.render.pdf import stream_ends

    stream_ends.install()
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    writer.root["/DocgenTest"] = writer.add_object(generic.StreamObject(stream_data=data))
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    assert _length_failures(out.getvalue()) == []
    assert (b"\r\r\nendstream" in out.getvalue()) == data.endswith(b"\r")


@pytest.mark.parametrize("data", [b"abc\r", b"abc\r\r", b"abc\n", b"abc"])
def test_pypdf_streams_ending_with_cr_keep_their_length(pdf, data):
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import DecodedStreamObject, NameObject

    from docgen.render.pdf import stream_ends

    stream_ends.install()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    stream = DecodedStreamObject()
    stream.set_data(data)
    writer._root_object[NameObject("/DocgenTest")] = writer._add_object(stream)  # noqa: SLF001
    out = io.BytesIO()
    writer.write(out)
    assert _length_failures(out.getvalue()) == []


@pytest.mark.slow
def test_signing_and_packets_mend_the_writers_they_use(tmp_path):
    """In a fresh process: signing mends pyHanko's stream writer, building a packet pypdf's."""
    import subprocess
    import sys

    code = """
import datetime, sys
sys.path.insert(0, "tests")
import pki
from pypdf.generic import StreamObject
from pyhanko.pdf_utils.generic import StreamObject as HankoStream
from docgen import api
from docgen.packet import build_packet
from docgen.sign import load_key
import builders
mended = lambda cls: getattr(cls.write_to_stream, "mended", False)
before = (mended(HankoStream), mended(StreamObject))
pdf = api.render_record(builders.plan_dict(), formats=("pdf",), as_of=datetime.date(2026, 11, 24)).documents["pdf"]
ca = pki.make_ca("CA")
signer = load_key(pki.pkcs12(__import__("pathlib").Path(sys.argv[1]) / "s.p12", pki.make_signer(ca, "A B"), ca, None),
                  None)
signer.sign(pdf, role="clinician")
signed = mended(HankoStream)
build_packet(["fixtures/plans/plan-adult-mdd-complete.yaml"], "C-1001", "claim", "Cascade Health Plan",
             datetime.date(2026, 1, 1), datetime.date(2026, 11, 24), disclosure=datetime.date(2026, 11, 24))
print(*before, signed, mended(StreamObject))
"""
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True,
                          cwd=Path(__file__).parent.parent, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False", "True", "True"]
