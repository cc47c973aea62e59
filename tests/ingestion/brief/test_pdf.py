"""Printing the brief: Debian's chromium, A4 from the page's CSS, and a clear error without it."""

from __future__ import annotations

import subprocess

import pytest

from citydw.brief.pdf import PdfError, print_pdf


def test_a_page_prints_to_a4_with_its_css_page_numbers(tmp_path):
    html = tmp_path / "index.html"
    html.write_text(
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><style>"
        "@page { size: A4; margin: 20mm; @bottom-center { content: '第' counter(page) '页'; } }"
        "p { break-after: page; }</style></head><body><p>支出进度65.98%</p><p>第二页</p></body></html>",
        encoding="utf-8",
    )
    pdf = print_pdf(html, tmp_path / "brief.pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "(A4)" in info and "Pages:           2" in info
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "支出进度65.98%" in text and "第1页" in text and "第2页" in text
    assert not (tmp_path / "brief.pdf.partial").exists()


def test_without_chromium_the_error_says_how_to_install_it(tmp_path):
    html = tmp_path / "index.html"
    html.write_text("<p>x</p>", encoding="utf-8")
    with pytest.raises(PdfError, match="make browser"):
        print_pdf(html, tmp_path / "brief.pdf", chromium=str(tmp_path / "no-chromium"))
    assert not (tmp_path / "brief.pdf").exists()
