"""The brief's PDF: the same HTML, printed by headless Chromium.

Why Chromium rather than WeasyPrint: the HTML is what leaders open too, and
Chromium draws it (SVG charts, CJK line breaking, fonts) exactly as a
browser shows it; it is one Debian package (``make browser``) and needs no
Python dependency at run time. It supports CSS page margin boxes, so the
page numbers come from the template's ``@page { @bottom-center … }`` and the
default header and footer (date, file URL) are switched off. Fonts used by
the page are embedded in the PDF by Chromium (Noto CJK from Debian's
``fonts-noto-cjk``).

Nothing may leave the machine while printing: every host name resolves to
nothing (``--host-resolver-rules``), background networking is off, and a
fresh profile is used and thrown away.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

TIMEOUT_SECONDS = 120


class PdfError(RuntimeError):
    """The PDF could not be printed; the message says what to install or check."""


def chromium_path(configured: str) -> str:
    found = shutil.which(configured) or (configured if os.access(configured, os.X_OK) else None)
    if not found:
        raise PdfError(
            f"headless Chromium not found at {configured}: run `make browser` "
            "(apt-get install chromium fonts-noto-cjk) or set CITYDW_CHROMIUM"
        )
    return found


def print_pdf(html: Path, pdf: Path, chromium: str = "/usr/bin/chromium") -> Path:
    """Print ``html`` (a file inside the brief folder) to ``pdf`` with ``chromium``, A4 as the page's CSS says."""
    partial = pdf.with_suffix(".pdf.partial")
    with tempfile.TemporaryDirectory(prefix="citydw-chromium-") as profile:
        command = [
            chromium_path(chromium),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-domain-reliability",
            "--disable-sync",
            "--no-first-run",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            "--run-all-compositor-stages-before-draw",
            f"--print-to-pdf={partial}",
            html.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired as error:
            raise PdfError(f"chromium did not print {html} within {TIMEOUT_SECONDS} s") from error
    if done.returncode != 0 or not partial.exists() or partial.stat().st_size == 0:
        partial.unlink(missing_ok=True)
        tail = "\n".join((done.stderr or "").strip().splitlines()[-5:])
        raise PdfError(f"chromium could not print {html} (exit {done.returncode}): {tail}")
    partial.replace(pdf)
    return pdf
