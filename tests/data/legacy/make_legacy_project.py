"""Build tests/data/legacy/project: a project made by Tarjoman 0.1 before the review store
(commit a81d480), with translators' work in every form that release kept it.

Run with that release's code, not this one (the fixture is what it wrote):

    git worktree add /tmp/legacy-code a81d480
    PYTHONPATH=/tmp/legacy-code .venv/bin/python tests/data/legacy/make_legacy_project.py

What it leaves: the sample extracted and drafted into French and Urdu with the demo model; in
French, approvals as drafted and as rewritten, a draft edited but still fuzzy, translator
comments, a sentence later removed from the manuscript (an obsolete #~ entry), a
chapter whose working file was broken after its last good copy was imported; in Urdu, a chapter
approved; the draft cache and the draft ledger; the glossary with an approval and a rejection.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import docx
import polib

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
OUT = HERE / "project"


def tarjoman(*args):
    subprocess.run([sys.executable, "-m", "tarjoman", "--root", str(OUT), *args], check=True, capture_output=True)


def edit(path, change):
    catalog = polib.pofile(str(path), wrapwidth=0)
    for i, entry in enumerate(e for e in catalog if not e.obsolete):
        change(i, entry)
    catalog.save(str(path))


def approve(entry, text=None):
    entry.msgstr = text or entry.msgstr
    if "fuzzy" in entry.flags:
        entry.flags.remove("fuzzy")


if __name__ == "__main__":
    shutil.rmtree(OUT, ignore_errors=True)
    (OUT / "sources").mkdir(parents=True)
    (OUT / "glossaries").mkdir()
    shutil.copy(REPO / "sources" / "sample.docx", OUT / "sources" / "sample.docx")
    shutil.copy(REPO / "sources" / "sample.yaml", OUT / "sources" / "sample.yaml")
    shutil.copy(REPO / "glossaries" / "sample.csv", OUT / "glossaries" / "sample.csv")
    model = str(REPO / "sources" / "demo-model")
    tarjoman("extract", str(OUT / "sources" / "sample.docx"), "--book", "sample")
    tarjoman("draft", "sample", "--lang", "fr,ur", "--model", model, "--beams", "1")
    review = OUT / "outputs" / "sample" / "review"

    def ch01(i, entry):
        if i < 2:
            approve(entry)  # approved as drafted
        elif i < 5:
            approve(entry, f"Traduction revue {i} : {entry.msgstr}")
            entry.tcomment = f"vérifié avec l'auteur ({i})"
        elif i == 5:
            entry.msgstr = "Brouillon corrigé, encore à relire."  # edited, still fuzzy

    edit(review / "ch01" / "fr.po", ch01)
    edit(review / "ch02" / "fr.po", lambda i, e: approve(e, f"Chapitre deux, phrase {i}."))
    edit(review / "ch03" / "fr.po", lambda i, e: approve(e, f"Chapitre trois, phrase {i}.") if i < 4 else None)
    edit(review / "ch02" / "ur.po", lambda i, e: approve(e))
    tarjoman("review", "import", "sample")
    # A revision removes a sentence with a draft: it becomes an obsolete entry.
    doc = docx.Document(OUT / "sources" / "sample.docx")
    gone = next(p for p in doc.paragraphs if p.text.startswith("ما سلاح نداشتیم"))
    gone._element.getparent().remove(gone._element)
    doc.save(OUT / "sources" / "sample.docx")
    tarjoman("extract", str(OUT / "sources" / "sample.docx"), "--book", "sample")
    tarjoman("draft", "sample", "--lang", "fr,ur", "--model", model, "--beams", "1")
    tarjoman("review", "import", "sample")
    # After its last good copy, the translator broke ch03/fr.po (and approved one more there).
    edit(review / "ch03" / "fr.po", lambda i, e: approve(e, "Approuvé dans le fichier cassé.") if i == 6 else None)
    broken = review / "ch03" / "fr.po"
    broken.write_text(broken.read_text(encoding="utf-8") + '\nmsgid "unterminated\n', encoding="utf-8")
    tarjoman("glossary", "approve", "sample", "شط العرب", "--en", "Arvand Rud", "--ar", "شط العرب", "--fr", "Chatt-el-Arab",
             "--ur", "شط العرب", "--kind", "place", "--by", "editor-a")
    tarjoman("glossary", "reject", "sample", "دزفول", "--by", "editor-b")
    for lock in (OUT / "outputs" / "sample").glob(".lock*"):
        lock.unlink()
    print(f"legacy project written to {OUT}")
