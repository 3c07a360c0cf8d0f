"""The certificate PDF in Chinese (reportlab's built-in CID font), its QR code (segno), and its PAdES signature."""

from __future__ import annotations

import io

import segno
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
_METADATA = signers.PdfSignatureMetadata(field_name="IssuerSignature", subfilter=fields.SigSeedSubFilter.PADES,
                                         md_algorithm="sha256", reason="电子证明签发", location="中国")


def _qr(c: canvas.Canvas, text: str, *, x: float, y: float, size: float) -> None:
    # Drawn module by module: crisp at any zoom and no image library needed.
    matrix = segno.make(text, error="m").matrix
    cell = size / len(matrix)
    for row_index, row in enumerate(matrix):
        for col_index, dark in enumerate(row):
            if dark:
                c.rect(x + col_index * cell, y + size - (row_index + 1) * cell, cell, cell, stroke=0, fill=1)


def render(*, title: str, statement: str, rows: list[tuple[str, str]], serial: str, issuer: str, issued_on: str,
           valid_until: str, purpose: str, verify_url: str) -> bytes:
    """The unsigned certificate PDF."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    c.setTitle(title)
    c.setAuthor(issuer)
    width, height = A4
    c.setFont(FONT, 24)
    c.drawCentredString(width / 2, height - 100, title)
    c.setFont(FONT, 10)
    c.drawRightString(width - 60, height - 130, f"编号：{serial}")
    c.setFont(FONT, 12)
    c.drawString(70, height - 170, statement)
    y = height - 210
    for label, value in rows:
        c.drawString(90, y, f"{label}：")
        c.drawString(210, y, value)
        y -= 26
    c.drawString(70, y - 14, f"用途：{purpose}")
    c.drawString(70, y - 40, f"有效期至：{valid_until}（逾期作废）")
    c.drawString(70, y - 66, "本证明为电子证明，与纸质证明具有同等效力；扫描右侧二维码或访问下列地址核验真伪。")
    c.setFont(FONT, 8)
    c.drawString(70, y - 86, verify_url)
    _qr(c, verify_url, x=width - 190, y=90, size=120)
    c.setFont(FONT, 12)
    c.drawString(70, 150, f"出具单位：{issuer}（电子签章）")
    c.drawString(70, 124, f"出具日期：{issued_on}")
    c.showPage()
    c.save()
    return buf.getvalue()


def sign(pdf: bytes, signer: signers.SimpleSigner) -> bytes:
    """The PDF with a PAdES signature by `signer` (an incremental update: any later change breaks it)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    # A fixed reservation skips pyhanko's sizing dry run, which would sign twice.
    return signers.sign_pdf(writer, _METADATA, signer=signer, bytes_reserved=8192).getvalue()
