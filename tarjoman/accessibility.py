"""What a book tells a reader who cannot see it, and Ace by DAISY's verdict on it.

:func:`accessibility_metadata` derives the package's schema.org accessibility metadata from the
edition itself — what is really in it, never a blanket claim: ``accessMode`` visual only where
there are images, ``accessModeSufficient`` textual only when every image has an approved
description in the book's language, ``alternativeText`` only when images have one. The
conformance claim (EPUB Accessibility 1.1, WCAG 2 AA) is added by ``publish`` only after Ace
has checked the book and found nothing (:func:`run_ace`).

Ace is the checker publishers use (``@daisy/ace-cli``, pinned in ``tools/ace``; ``make ace``
installs it). It drives a Chromium through puppeteer: Debian's, named by
``PUPPETEER_EXECUTABLE_PATH`` or found on ``PATH``. It exits 0 on a "fail" verdict, so the
verdict is read from its ``report.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import EpubError

REPO = Path(__file__).resolve().parent.parent
ACE_IN_REPO = REPO / "tools" / "ace" / "node_modules" / ".bin" / "ace-cli"
IMPACTS = ("critical", "serious", "moderate", "minor")
ACE_TIMEOUT_S = 300
CONFORMS_TO = "EPUB Accessibility 1.1 - WCAG 2.1 Level AA"  # the exact string EPUB Accessibility 1.1 §2.1 gives

# The accessibility summary, in the book's language: what a reader can rely on, said plainly.
SUMMARY = {
    "en": {
        "base": "This ebook is reflowable text with a table of contents, headings in order and a logical reading order.",
        "notes": "Notes are linked from the text and back.",
        "images_ok": "Every image has a text description.",
        "images_missing": "Some images have no text description.",
        "hazards": "It has no flashing, motion or sound hazards.",
    },
    "fr": {
        "base": "Ce livre numérique est un texte recomposable, avec une table des matières, des titres hiérarchisés et un ordre de lecture logique.",
        "notes": "Les notes sont liées au texte dans les deux sens.",
        "images_ok": "Chaque image a une description textuelle.",
        "images_missing": "Certaines images n’ont pas de description textuelle.",
        "hazards": "Il ne présente aucun risque lié au clignotement, au mouvement ou au son.",
    },
    "ar": {
        "base": "هذا الكتاب الإلكتروني نص قابل لإعادة التدفق، له فهرس محتويات وعناوين مرتبة وترتيب قراءة منطقي.",
        "notes": "الحواشي مرتبطة بالنص في الاتجاهين.",
        "images_ok": "لكل صورة وصف نصي.",
        "images_missing": "بعض الصور بلا وصف نصي.",
        "hazards": "لا يحتوي على وميض أو حركة أو صوت قد يضر القارئ.",
    },
    "ur": {
        "base": "یہ ای بک قابلِ ترتیب متن ہے، جس میں فہرست، ترتیب وار سرخیاں اور منطقی ترتیبِ مطالعہ ہے۔",
        "notes": "حواشی متن سے اور متن کی طرف مربوط ہیں۔",
        "images_ok": "ہر تصویر کی متنی وضاحت موجود ہے۔",
        "images_missing": "کچھ تصاویر کی متنی وضاحت موجود نہیں۔",
        "hazards": "اس میں چمکنے، حرکت یا آواز کا کوئی خطرہ نہیں۔",
    },
}


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    where: str  # the file in the book
    message: str

    def __str__(self) -> str:
        return f"{self.impact} {self.rule} {self.where}: {self.message}"


@dataclass
class AceReport:
    outcome: str  # "pass" or "fail", Ace's verdict
    violations: list[Violation] = field(default_factory=list)
    missing_metadata: list[str] = field(default_factory=list)
    version: str = ""

    def count(self, impact: str) -> int:
        return sum(1 for v in self.violations if v.impact == impact)

    @property
    def clean(self) -> bool:
        """Nothing critical, serious or moderate: what a conformance claim needs."""
        return not any(v.impact in ("critical", "serious", "moderate") for v in self.violations)


def accessibility_metadata(edition, *, conforms: bool = False) -> list[tuple[str, str]]:
    """(property, value) pairs of schema.org accessibility metadata for ``edition``'s package."""
    images = edition.images
    described = described_images(edition)
    notes = any(chapter.notes for chapter in edition.chapters)
    words = SUMMARY.get(edition.lang, SUMMARY["en"])
    pairs = [("schema:accessMode", "textual")]
    if images:
        pairs.append(("schema:accessMode", "visual"))
    if not images or len(described) == len(images):
        pairs.append(("schema:accessModeSufficient", "textual"))
    if images:
        pairs.append(("schema:accessModeSufficient", "textual,visual"))
    features = ["tableOfContents", "readingOrder", "structuralNavigation", "displayTransformability"]
    if images and described:
        features.append("alternativeText")
    pairs += [("schema:accessibilityFeature", feature) for feature in features]
    pairs.append(("schema:accessibilityHazard", "none"))
    summary = [words["base"]]
    if notes:
        summary.append(words["notes"])
    if images:
        summary.append(words["images_ok"] if len(described) == len(images) else words["images_missing"])
    summary.append(words["hazards"])
    pairs.append(("schema:accessibilitySummary", " ".join(summary)))
    if conforms:
        pairs.append(("dcterms:conformsTo", CONFORMS_TO))
    return pairs


def described_images(edition) -> set[str]:
    """IDs of the edition's images with an approved description in its language: the translation of
    the manuscript's alt text, or of the caption where the alt text was the caption's words. A
    machine draft in a draft edition does not count."""
    from .manuscript.build import caption_describes

    def good(block) -> bool:
        return block.approved and bool(block.text.strip()) and block.lang == edition.lang

    alt_is_caption = {image.id for image in edition.images if caption_describes(image)}
    described = set()
    for chapter in edition.chapters:
        figure: list[str] = []
        for block in chapter.blocks:
            if block.kind == "alt":
                described.update(image_id for image_id in block.images if good(block))
                continue
            if block.kind == "caption" and good(block):
                described.update(image_id for image_id in figure if image_id in alt_is_caption)
            figure = block.images
    return described


def ace_command() -> list[str] | None:
    """How to start Ace here: ``$TARJOMAN_ACE``, the project's own install, or ``ace-cli`` on PATH."""
    named = os.environ.get("TARJOMAN_ACE")
    if named:
        return [named]
    if ACE_IN_REPO.exists():
        return [str(ACE_IN_REPO)]
    found = shutil.which("ace-cli") or shutil.which("ace")
    return [found] if found else None


def chromium() -> str | None:
    named = os.environ.get("PUPPETEER_EXECUTABLE_PATH")
    if named and Path(named).exists():
        return named
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def ace_available() -> str | None:
    """None when Ace can run here, else why not (one line, with the next step)."""
    named = os.environ.get("TARJOMAN_ACE")
    if named and not (Path(named).is_file() or shutil.which(named)):
        return f"TARJOMAN_ACE names {named}, which is not there (unset it to use the project's own: make ace)"
    if ace_command() is None:
        return "Ace by DAISY is not installed (make ace, which needs npm; or npm install -g @daisy/ace-cli)"
    if chromium() is None:
        return "Ace by DAISY needs Chromium (apt-get install chromium, or set PUPPETEER_EXECUTABLE_PATH)"
    return None


def run_ace(epub: Path, *, report_dir: Path | None = None, timeout: float = ACE_TIMEOUT_S) -> AceReport:
    """Ace's verdict on the book at ``epub``; its report is kept in ``report_dir`` when one is given."""
    why = ace_available()
    if why:
        raise EpubError(why, path=epub)
    environment = dict(os.environ, PUPPETEER_EXECUTABLE_PATH=chromium(), PUPPETEER_SKIP_DOWNLOAD="1")
    with tempfile.TemporaryDirectory(prefix="tarjoman-ace-") as scratch:
        out = Path(report_dir) if report_dir else Path(scratch) / "report"
        command = [*ace_command(), "--force", "--silent", "--outdir", str(out), str(epub)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=environment)
        except subprocess.TimeoutExpired:
            raise EpubError(f"Ace by DAISY did not finish in {timeout:.0f} s", path=epub) from None
        report = out / "report.json"
        if done.returncode != 0 or not report.exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise EpubError(f"Ace by DAISY could not check the book (exit {done.returncode}): {' | '.join(tail)}", path=epub)
        return parse_report(json.loads(report.read_text(encoding="utf-8")))


def parse_report(data: dict) -> AceReport:
    """The verdict, violations and missing metadata of an Ace ``report.json``."""
    violations = []
    for document in data.get("assertions", []):
        where = document.get("earl:testSubject", {}).get("url", "")
        for assertion in document.get("assertions", []):
            result = assertion.get("earl:result", {})
            if result.get("earl:outcome") != "fail":
                continue
            test = assertion.get("earl:test", {})
            violations.append(Violation(test.get("dct:title", "?"), test.get("earl:impact", "?"), where,
                                        (result.get("dct:description") or "").strip()))
    asserted_by = data.get("earl:assertedBy", {})
    version = asserted_by.get("doap:release", {}).get("doap:revision", "") if isinstance(asserted_by, dict) else ""
    return AceReport(data.get("earl:result", {}).get("earl:outcome", "?"), violations,
                     list(data.get("a11y-metadata", {}).get("missing", [])), version)
