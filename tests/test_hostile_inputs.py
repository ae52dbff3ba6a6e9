"""Trying to break it: hostile inputs, killed processes, two writers at once.

Every refusal must be one line naming the file, a non-zero exit, and every file already
under outputs/ byte-for-byte unchanged."""

import hashlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import polib
import pytest
from conftest import DATA, SAMPLE, SAMPLE_GLOSSARY


BAD_MANUSCRIPTS = {
    "missing.docx": None,
    "corrupt.docx": DATA / "corrupt.docx",
    "truncated.docx": DATA / "truncated.docx",
    "encrypted.docx": DATA / "encrypted.docx",
    "old-word.docx": DATA / "old_format.doc",  # an old .doc renamed .docx
    "empty.docx": DATA / "empty.docx",
    "only-images.docx": DATA / "only_images.docx",
}


def tarjoman(root, *args, timeout=300):
    return subprocess.run([sys.executable, "-m", "tarjoman", "--root", str(root), *args], capture_output=True, text=True, timeout=timeout)


def fingerprint(root: Path) -> dict[str, str]:
    """A hash of every file under outputs/ and glossaries/ (lock files aside)."""
    files = [p for folder in ("outputs", "glossaries") for p in sorted((root / folder).rglob("*"))]
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.is_file() and not p.name.startswith(".lock") and not p.name.endswith(".lock")}


@pytest.fixture(scope="module")
def drafted(tmp_path_factory, tiny_models):
    """A project with the sample extracted and drafted into French: something to lose."""
    root = tmp_path_factory.mktemp("reliable")
    (root / "sources").mkdir()
    (root / "glossaries").mkdir()
    shutil.copy(SAMPLE, root / "sources" / "sample.docx")
    shutil.copy(SAMPLE_GLOSSARY, root / "glossaries" / "sample.csv")
    assert tarjoman(root, "extract", str(root / "sources" / "sample.docx"), "--book", "sample").returncode == 0
    result = tarjoman(root, "draft", "sample", "--lang", "fr", "--model", tiny_models["nllb"], "--beams", "1")
    assert result.returncode == 0, result.stderr
    return root


def kill_repeatedly(args: list[str], *, seed: int, kills: int, within: tuple[float, float]):
    """Start ``args`` and SIGKILL it after a random moment, ``kills`` times ($TARJOMAN_KILLS overrides);
    yields after each kill, for the caller's checks."""
    rng = random.Random(seed)
    for kill in range(int(os.environ.get("TARJOMAN_KILLS", str(kills)))):
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(*within))
        process.send_signal(signal.SIGKILL)
        process.wait()
        yield kill


def refused(result, name: str):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0], result.stderr


def zip_bomb(path: Path) -> None:
    with zipfile.ZipFile(SAMPLE) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("word/media/bomb.bin", b"\0" * (300 * 1024 * 1024))  # 300 MiB of zeros, ~300 KiB packed


def billion_laughs(path: Path) -> None:
    lol = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' \
          '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    with zipfile.ZipFile(SAMPLE) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "word/document.xml":
                head = data.index(b"?>") + 2
                data = data[:head] + lol.encode() + data[head:].replace("خرمشهر".encode(), b"&lol3;", 1)
            dst.writestr(item, data)


def xxe(path: Path, secret: Path) -> None:
    with zipfile.ZipFile(SAMPLE) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "word/document.xml":
                root = data.index(b"<w:", data.index(b"?>"))
                data = data[:root] + f'<!DOCTYPE x [<!ENTITY x SYSTEM "file://{secret}">]>'.encode() + data[root:]
                data = data.replace("خرمشهر".encode(), b"&x;", 1)
            dst.writestr(item, data)


@pytest.mark.parametrize("name", sorted(BAD_MANUSCRIPTS) + ["zip-bomb.docx", "billion-laughs.docx", "xxe.docx", "not-a-docx.txt.docx"])
def test_bad_manuscripts_change_nothing(drafted, name, tmp_path):
    target = tmp_path / name
    source = BAD_MANUSCRIPTS.get(name)
    if source is not None:
        shutil.copy(source, target)
    elif name == "zip-bomb.docx":
        zip_bomb(target)
    elif name == "billion-laughs.docx":
        billion_laughs(target)
    elif name == "xxe.docx":
        (tmp_path / "secret.txt").write_text("TOPSECRET")
        xxe(target, tmp_path / "secret.txt")
    elif name == "not-a-docx.txt.docx":
        target.write_text("just some text, saved with the wrong extension\n")
    before = fingerprint(drafted)
    result = tarjoman(drafted, "extract", str(target), "--book", "sample")
    refused(result, name)
    assert "TOPSECRET" not in result.stderr + result.stdout
    assert fingerprint(drafted) == before


GLOSSARY_HEADER = "term,en,ar,fr,ur,status,kind,note,decided_by,decided_at\r\n"
BAD_GLOSSARIES = {
    # case: (file content, what the message must say)
    "duplicate": (GLOSSARY_HEADER + "کارون,Karun,كارون,Karoun,کارون,approved,,,,\r\nکارون,Karun,كارون,Karoun,کارون,approved,,,,\r\n", "line 3"),
    "conflict": (GLOSSARY_HEADER + "کارون,Karun,كارون,Karoun,کارون,approved,,,,\r\nکارون,Karoon,كارون,Karoun,کارون,approved,,,,\r\n", "line 3"),
    "bad-status": (GLOSSARY_HEADER + "کارون,Karun,كارون,Karoun,کارون,yes,,,,\r\n", "line 2"),
    "broken-quoting": (GLOSSARY_HEADER + 'کارون,"Karun,كارون,Karoun,کارون,approved,,,,\r\n', "line 2"),
    "empty-file": ("", "empty"),
    "huge-file": (None, "MB"),
}


@pytest.mark.parametrize("case", sorted(BAD_GLOSSARIES))
def test_bad_glossaries_stop_drafting_and_change_nothing(drafted, tiny_models, case):
    content, words = BAD_GLOSSARIES[case]
    path = drafted / "glossaries" / "sample.csv"
    good = path.read_bytes()
    try:
        if content is None:  # 21 MB: refused by size, before any parsing
            row = "کارون,Karun,كارون,Karoun,کارون,proposed,,,,\r\n".encode()
            path.write_bytes(GLOSSARY_HEADER.encode() + row * (21 * 2**20 // len(row) + 1))
        else:
            path.write_bytes(content.encode())
        before = fingerprint(drafted)
        for args in (["draft", "sample", "--lang", "fr", "--model", tiny_models["nllb"], "--beams", "1"],
                     ["glossary", "approve", "sample", "اهواز", "--en", "Ahvaz", "--ar", "الأهواز", "--fr", "Ahvaz", "--ur", "اہواز"]):
            result = tarjoman(drafted, *args)
            refused(result, "sample.csv")
            assert words in result.stderr, result.stderr
            assert fingerprint(drafted) == before
    finally:
        path.write_bytes(good)


@pytest.mark.parametrize(
    "case",
    ["header", "middle", "end", "edited-msgid", "duplicate", "truncated", "wrong-charset", "utf16-broken", "stale-chapter"],
)
def test_bad_review_files_are_reported_and_change_nothing_else(drafted, case):
    review = drafted / "outputs" / "sample" / "review"
    path = review / "ch02" / "fr.po"
    good = path.read_bytes()
    text = good.decode("utf-8")
    lines = text.splitlines()
    target = path
    if case == "header":
        lines[1] = 'msgstr "'
    elif case == "middle":
        at = len(lines) // 2
        at = next(i for i in range(at, len(lines)) if lines[i].startswith("msgstr"))
        lines[at] = lines[at].replace('msgstr "', "msgstr ", 1)
    elif case == "end":
        lines.append('msgid "unfinished')
    elif case == "edited-msgid":
        at = next(i for i in range(20, len(lines)) if lines[i].startswith("msgid"))
        lines[at] = lines[at][:-1] + ' (edited)"'
    elif case == "duplicate":
        block = text.split("\n\n")[2]
        lines = (text + "\n" + block + "\n").splitlines()
    elif case == "truncated":
        lines = text[: len(text) // 2].splitlines()
    elif case == "wrong-charset":
        lines = [line.replace("charset=UTF-8", "charset=ISO-8859-1") for line in lines]
    elif case == "utf16-broken":
        target.write_bytes(("\n".join(lines[:30]) + '\nmsgid "x\n').encode("utf-16"))
    elif case == "stale-chapter":
        target = review / "ch77" / "fr.po"
        target.parent.mkdir()
    if case != "utf16-broken":
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = {k: v for k, v in fingerprint(drafted).items() if not k.endswith(str(target.relative_to(drafted)))}
    try:
        result = tarjoman(drafted, "review", "import", "sample")
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert target.name in result.stderr and str(target.parent.name) in result.stderr
        after = fingerprint(drafted)
        assert {k: after.get(k) for k in before} == before  # good copies of valid files may be added, nothing changes
    finally:
        if case == "stale-chapter":
            shutil.rmtree(target.parent)
        path.write_bytes(good)


@pytest.mark.parametrize("case", ["missing", "not-a-model", "causal-lm", "no-language-codes"])
def test_bad_models_change_nothing(drafted, tiny_models, tmp_path, case):
    model = tmp_path / case
    if case == "not-a-model":
        model.mkdir()
        (model / "config.json").write_text("{not json")
    elif case == "causal-lm":
        from transformers import GPT2Config, GPT2LMHeadModel

        GPT2LMHeadModel(GPT2Config(n_embd=16, n_layer=1, n_head=2, vocab_size=50)).save_pretrained(model)
    elif case == "no-language-codes":
        shutil.copytree(tiny_models["marian"] + "/fa-en", model)
        config = model / "config.json"
        config.write_text(config.read_text().replace('"marian"', '"m2m_100"'))
    before = fingerprint(drafted)
    result = tarjoman(drafted, "draft", "sample", "--lang", "fr", "--model", str(model))
    refused(result, str(model))
    assert fingerprint(drafted) == before


def test_killed_drafting_corrupts_nothing_and_resumes(tmp_path, tiny_models):
    """SIGKILL `tarjoman draft` at random moments (6 here; `.ci/run` runs it again with
    TARJOMAN_KILLS=20): every PO file stays valid, the store passes its integrity check, and the next run
    finishes without drafting again anything committed before a kill."""
    root = tmp_path
    (root / "sources").mkdir()
    shutil.copy(SAMPLE, root / "sources" / "sample.docx")
    assert tarjoman(root, "extract", str(root / "sources" / "sample.docx"), "--book", "sample").returncode == 0
    args = [sys.executable, "-m", "tarjoman", "--root", str(root), "draft", "sample", "--lang", "ar,en,fr,ur", "--model", tiny_models["nllb"], "--beams", "1"]
    for _ in kill_repeatedly(args, seed=7, kills=6, within=(1.0, 7.0)):
        for path in (root / "outputs" / "sample").rglob("*.po"):
            assert subprocess.run(["msgfmt", "-c", "-o", "/dev/null", str(path)], capture_output=True).returncode == 0, path
            polib.pofile(str(path))
        cache = root / "tarjoman.sqlite"  # the review store, which holds the draft cache
        if cache.exists():
            assert sqlite3.connect(cache).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    committed = dict(sqlite3.connect(cache).execute("SELECT key, created FROM draft_cache")) if cache.exists() else {}
    final = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    after = dict(sqlite3.connect(cache).execute("SELECT key, created FROM draft_cache"))
    assert {k: after[k] for k in committed} == committed  # nothing committed before the kills was drafted again
    again = subprocess.run(args, capture_output=True, text=True, timeout=300)
    for line in again.stdout.splitlines()[2:6]:
        assert line.split()[2] == "0"  # nothing left to draft: everything made before the kills was kept


def test_a_second_draft_while_one_runs_is_refused(drafted, tiny_models):
    """Another process holds the book (as a running `tarjoman draft` does): a second run is
    refused at once, before loading a model, and writes nothing."""
    from tarjoman.book import book_lock

    before = fingerprint(drafted)
    with book_lock(drafted / "outputs" / "sample", "testing"):
        started = time.monotonic()
        result = tarjoman(drafted, "draft", "sample", "--lang", "ar", "--model", tiny_models["nllb"], "--beams", "1")
    refused(result, "another tarjoman process")
    assert fingerprint(drafted) == before
    assert time.monotonic() - started < 60


@pytest.mark.parametrize("slug", ["../escape", "/etc", "a/b", "..", "CON..", ".hidden", "x" * 65])
def test_book_names_cannot_escape_outputs(tmp_path, slug):
    result = tarjoman(tmp_path, "extract", str(SAMPLE), "--book", slug)
    assert result.returncode == 1 and "not allowed" in result.stderr
    assert not (tmp_path / "outputs").exists()


def test_hostile_file_names_are_read(tmp_path):
    weird = tmp_path / "my \"memoir\" ' (final) ..docx"
    shutil.copy(SAMPLE, weird)
    result = tarjoman(tmp_path, "extract", str(weird), "--json")
    assert result.returncode == 0, result.stderr
    outputs = [p for p in (tmp_path / "outputs").iterdir()]
    assert len(outputs) == 1 and outputs[0].resolve().parent == (tmp_path / "outputs").resolve()


def test_a_source_path_with_dot_dot_stays_inside_outputs(tmp_path):
    (tmp_path / "in").mkdir()
    shutil.copy(SAMPLE, tmp_path / "..memoir..docx")
    result = tarjoman(tmp_path, "extract", str(tmp_path / "in" / ".." / "..memoir..docx"))
    assert result.returncode == 0, result.stderr
    made = list((tmp_path / "outputs").iterdir())
    assert len(made) == 1 and made[0].resolve().parent == (tmp_path / "outputs").resolve() and not made[0].name.startswith(".")


def test_control_characters_and_mixed_direction_text(tmp_path):
    """C1 controls, bidi overrides and embeddings, and Latin/Persian/Arabic in one paragraph."""
    import docx

    doc = docx.Document()
    doc.add_heading("فصل اول", 1)
    doc.add_paragraph("او گفت\u0085 «\u202eOperation Karbala 5\u202c» در ۱۳۶۵ آغاز شد.\u009c")
    doc.add_paragraph("\u202bنام او Hassan (حسن) بود و در Abadan، عبادان، زندگی می‌کرد.\u202c")
    doc.save(tmp_path / "mixed.docx")
    result = tarjoman(tmp_path, "extract", str(tmp_path / "mixed.docx"), "--book", "mixed")
    assert result.returncode == 0, result.stderr
    from tarjoman.manuscript import load_manuscript

    texts = [s.text for s in load_manuscript(tmp_path / "outputs" / "mixed" / "manuscript.json").segments()]
    joined = "".join(texts)
    assert "Operation Karbala 5" in joined and "Hassan (حسن)" in joined
    assert not any(c in joined for c in "\u0085\u009c\u202a\u202b\u202c\u202d\u202e")


def test_a_100000_character_paragraph_without_punctuation(tmp_path):
    import docx

    doc = docx.Document()
    doc.add_heading("فصل اول", 1)
    doc.add_paragraph(" ".join(["واژه"] * 20000))  # 100,000 characters, no full stop
    doc.save(tmp_path / "long.docx")
    result = tarjoman(tmp_path, "extract", str(tmp_path / "long.docx"), "--book", "long", "--json")
    assert result.returncode == 0, result.stderr
    from tarjoman.manuscript import load_manuscript
    from tarjoman.text import estimate_tokens

    manuscript = load_manuscript(tmp_path / "outputs" / "long" / "manuscript.json")
    segments = list(manuscript.segments())
    assert len(segments) > 100 and all(estimate_tokens(s.text) <= 200 for s in segments)



def test_killed_publishing_never_leaves_a_half_written_book(drafted):
    """SIGKILL `tarjoman publish` at random moments: where a book is expected there is either
    none, the previous one, or the new one — always a whole, valid EPUB."""
    from tarjoman.epub import check_epub

    book = drafted / "outputs" / "sample" / "epub" / "sample.fr.epub"
    args = [sys.executable, "-m", "tarjoman", "--root", str(drafted), "publish", "sample", "--lang", "fr", "--draft"]
    for _ in kill_repeatedly(args, seed=11, kills=4, within=(0.5, 6.0)):
        if book.exists():
            with zipfile.ZipFile(book) as archive:
                assert archive.testzip() is None and archive.namelist()[0] == "mimetype"
    assert subprocess.run(args, capture_output=True, text=True, timeout=300).returncode == 0
    assert check_epub(book) == []
