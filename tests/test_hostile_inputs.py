"""Trying to break it: hostile inputs, killed processes, two writers at once.

Every refusal must be one line naming the file, a non-zero exit, and every file already
under outputs/ byte-for-byte unchanged."""

import functools
import hashlib
import json
import os
import random
import shlex
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import polib
import pytest
from conftest import DATA, SAMPLE, SAMPLE_GLOSSARY

from tarjoman.engines import GenerationSettings, load_engine


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
    "line-break-rendering": (GLOSSARY_HEADER + 'کارون,"Karun\nRiver",كارون,Karoun,کارون,approved,,,,\r\n', "line break"),
    "markup-rendering": (GLOSSARY_HEADER + "کارون,<b>Karun</b>,كارون,Karoun,کارون,approved,,,,\r\n", "markup"),
    "entity-rendering": (GLOSSARY_HEADER + "کارون,Karun,كارون,Kar&eacute;oun,کارون,proposed,,,,\r\n", "markup"),
    "control-character-term": (GLOSSARY_HEADER + "کار\x07ون,Karun,كارون,Karoun,کارون,approved,,,,\r\n", "control character"),
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


# --- The file system says no -------------------------------------------------------------
# outputs/, glossaries/ or the whole project on a read-only mount, or on a disk with no room
# left: each command prints one line naming the path and what to do, and nothing changes — no
# file under outputs/ or glossaries/, nothing in the review store. Root's permissions do not
# stop writes, so the mounts are real: a read-only bind mount, or a tmpfs barely larger than
# what it holds, in a private mount namespace (unshare) that ends with the command.


def store_state(root: Path) -> str:
    """A digest of the review store's rows (the file's own bytes change when SQLite merely reads)."""
    connection = sqlite3.connect(f"file:{root / 'tarjoman.sqlite'}?mode=ro", uri=True)
    try:
        digest = hashlib.sha256()
        for table in ("books", "chapters", "segments", "translations", "changes", "conflicts", "terms", "tm_units", "draft_cache", "exchange_files"):
            for row in connection.execute(f"SELECT * FROM {table} ORDER BY rowid"):
                digest.update(repr(row).encode())
        return digest.hexdigest()
    finally:
        connection.close()


@functools.cache
def _confinement() -> tuple[list[str], str | None]:
    """The unshare command that gives a private mount namespace here (as root, or as a user through a
    user namespace), or why this machine cannot make one."""
    if shutil.which("unshare") is None:
        return [], "no unshare command"
    why = ""
    for command in (["unshare", "-m"], ["unshare", "-r", "-m"]):
        probe = subprocess.run([*command, "sh", "-c", "mount -t tmpfs -o size=4k tmpfs /mnt && umount /mnt"], capture_output=True, text=True)
        if probe.returncode == 0:
            return command, None
        why = probe.stderr.strip()
    return [], f"this machine gives no private mount namespace (unshare -m, unshare -r -m): {why}"


def confined(root: Path, args: list[str], *, kind: str, folder: str, spare: int = 64 * 1024):
    """Run the CLI with ``root/folder`` ("" for the whole project) read-only (kind "ro") or on a
    tmpfs with ``spare`` bytes free (kind "full"); returns the result and the fingerprint
    of outputs/ and glossaries/ as the command left them."""
    unshare, why = _confinement()
    if why is not None:  # the one case a test of this suite may skip, in CI too: the machine cannot make the mount
        pytest.skip(why)
    target = root / folder if folder else root
    command = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "tarjoman", "--root", str(root), *args])
    after = root.parent / f"{root.name}-after"
    shutil.rmtree(after, ignore_errors=True)
    if kind == "ro":
        script = f"mount --bind {target} {target} && mount -o remount,ro,bind {target} && {command}; rc=$?; cp -a {root} {after}; exit $rc"
    else:
        used = sum(-(-p.stat().st_size // 4096) * 4096 for p in target.rglob("*") if p.is_file()) + 4096 * sum(1 for p in target.rglob("*") if p.is_dir())
        room = root.parent / f"{root.name}-tmpfs"
        room.mkdir(exist_ok=True)
        script = (f"mount -t tmpfs -o size={used + spare} tmpfs {room} && cp -a {target}/. {room}/ && mount --bind {room} {target} && "
                  f"{command}; rc=$?; cp -a {root} {after}; exit $rc")
    env = {**os.environ, "TARJOMAN_LOG_DIR": str(root.parent / "logs")}
    result = subprocess.run([*unshare, "sh", "-c", script], capture_output=True, text=True, timeout=300, cwd=root, env=env)
    state = fingerprint(after), store_state(after)
    shutil.rmtree(after, ignore_errors=True)
    return result, state


@pytest.fixture(scope="module")
def reviewed(drafted, tmp_path_factory):
    """The drafted project with its French drafts approved and a glossary term decided: every
    command has something to write."""
    from tarjoman.project import Project
    from tarjoman.queue import accept_drafts

    root = tmp_path_factory.mktemp("confined") / "project"
    shutil.copytree(drafted, root)
    accept_drafts(Project(root), "sample", "fr", "A translator <t@example.invalid>")
    units = "".join(f'<tu><tuv xml:lang="fa"><seg>جنگ در روز {n} تمام شد و همه به خانه برگشتند.</seg></tuv>'
                    f'<tuv xml:lang="fr"><seg>La guerre finit le jour {n} et tous rentrèrent chez eux.</seg></tuv></tu>' for n in range(3000))
    (root / "sources" / "more.tmx").write_text(  # about 600 KB in the store with its index: more than a full disk takes
        '<?xml version="1.0" encoding="UTF-8"?>\n<tmx version="1.4"><header srclang="fa" datatype="plaintext" segtype="sentence" '
        f'adminlang="en" o-tmf="x" creationtool="t" creationtoolversion="1"/><body>{units}</body></tmx>\n', encoding="utf-8")
    return root


CONFINED_COMMANDS = {
    "extract": ["extract", "sources/sample.docx", "--book", "sample"],
    "draft": ["draft", "sample", "--lang", "fr,en", "--model", "{nllb}", "--beams", "1"],
    "review-import": ["review", "import", "sample", "--lang", "fr"],
    "review-export": ["review", "export", "sample", "--lang", "fr"],
    "export-tmx": ["review", "export-tmx", "sample", "--lang", "fr"],
    "qa": ["qa", "sample", "--lang", "fr"],
    "publish": ["publish", "sample", "--lang", "fr"],
    "glossary-approve": ["glossary", "approve", "sample", "اهواز", "--en", "Ahvaz", "--ar", "الأهواز", "--fr", "Ahvaz", "--ur", "اہواز"],
    "glossary-export": ["glossary", "export", "sample", "--tbx", "{root}/outputs/sample.tbx"],
    "tm-import": ["tm", "import", "sources/more.tmx"],
    "tm-export": ["tm", "export"],
}
# Which commands each mount can refuse: a command that writes nowhere under the read-only folder succeeds.
CONFINEMENTS = {
    ("ro", "outputs"): ["extract", "draft", "review-import", "review-export", "export-tmx", "qa", "publish", "glossary-export", "tm-export"],
    ("ro", "glossaries"): ["glossary-approve"],
    ("ro", ""): ["extract", "draft", "review-import", "qa", "publish", "glossary-approve", "tm-import", "tm-export"],
    ("full", "outputs"): ["extract", "draft", "review-import", "review-export", "qa", "publish"],
    ("full", ""): ["extract", "draft", "qa", "publish", "tm-import"],
}


@pytest.mark.parametrize("kind,folder,name", [(k, f, n) for (k, f), names in CONFINEMENTS.items() for n in names],
                         ids=lambda v: v or "project")
def test_a_read_only_or_full_file_system_is_one_line_and_changes_nothing(reviewed, tiny_models, kind, folder, name):
    args = [a.format(nllb=tiny_models["nllb"], root=reviewed) for a in CONFINED_COMMANDS[name]]
    before = fingerprint(reviewed), store_state(reviewed)
    result, after = confined(reviewed, args, kind=kind, folder=folder, spare=0 if folder == "" else 64 * 1024)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(reviewed) in lines[0], result.stderr
    expected = "read-only" if kind == "ro" else "space"
    assert expected in lines[0], lines[0]
    assert after == before


# --- A bug is still one line ------------------------------------------------------------------
# Any exception that escapes a command is a bug in Tarjoman: the user gets one line with the path
# of a log file that holds the traceback. Every command is run with an exception planted in it.

PLANT = """
import sys, click
from tarjoman import cli as module

def planted(*args, **kwargs):
    raise {kind}("planted: a bug in the command")

command = module.cli
for name in {path!r}:
    command = command.commands[name]
command.callback = planted
sys.argv = ["tarjoman", *{argv!r}]
module.main()
"""


def _leaf_commands():
    import click

    from tarjoman.cli import cli

    def walk(group, prefix=()):
        for name, command in sorted(group.commands.items()):
            if isinstance(command, click.Group):
                yield from walk(command, prefix + (name,))
            else:
                yield prefix + (name,), command

    return list(walk(cli))


def _arguments(command) -> list[str]:
    """Values for ``command``'s required parameters that click accepts, so the callback is reached."""
    import click

    def value(param) -> str:
        if isinstance(param.type, click.Choice):
            return param.type.choices[0]
        if isinstance(param.type, (click.types.IntParamType, click.types.IntRange)):
            return "1"
        if isinstance(param.type, click.Path) and param.type.exists:
            return str(SAMPLE)
        return "sample"

    args = []
    for param in command.params:
        if isinstance(param, click.Argument):
            args.append(value(param))
        elif isinstance(param, click.Option) and param.required:
            args += [param.opts[0], value(param)]
    return args


@pytest.mark.parametrize("path,command", _leaf_commands(), ids=lambda v: "-".join(v) if isinstance(v, tuple) else "")
def test_an_unexpected_exception_in_any_command_is_one_line_and_a_log(tmp_path, path, command):
    logs = tmp_path / "logs"
    argv = ["--root", str(tmp_path / "project"), *path, *_arguments(command)]
    kind = "KeyError" if len(path) % 2 else "RuntimeError"
    env = {**os.environ, "TARJOMAN_LOG_DIR": str(logs)}
    result = subprocess.run([sys.executable, "-c", PLANT.format(kind=kind, path=path, argv=argv)], capture_output=True, text=True,
                            timeout=120, env=env, stdin=subprocess.DEVNULL)
    assert result.returncode == 70, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "bug in Tarjoman" in lines[0] and kind in lines[0], result.stderr
    written = list(logs.glob("tarjoman-*.log"))
    assert len(written) == 1 and str(written[0]) in lines[0]
    log = written[0].read_text()
    assert "Traceback" in log and "planted: a bug in the command" in log and " ".join(path) in log
    assert not (tmp_path / "project").exists() or not any((tmp_path / "project").rglob("*.log"))


def test_a_bug_deep_inside_a_command_leaves_its_files_as_they_were(drafted, tmp_path):
    """A bug while the review files are written: one line and a log, and every file as it was."""
    code = ("import sys\nimport tarjoman.queue as queue\n"
            "def broken(*args, **kwargs):\n    raise ValueError('planted: a bug while writing')\n"
            "queue.replace_if_unchanged = broken\nqueue.write_atomic = broken\n"
            f"sys.argv = ['tarjoman', '--root', {str(drafted)!r}, 'review', 'export', 'sample', '--lang', 'fr']\n"
            "from tarjoman.cli import main\nmain()\n")
    before = fingerprint(drafted), store_state(drafted)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env={**os.environ, "TARJOMAN_LOG_DIR": str(tmp_path)})
    assert result.returncode == 70 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "ValueError" in result.stderr
    assert "planted: a bug while writing" in next(tmp_path.glob("tarjoman-*.log")).read_text()
    assert (fingerprint(drafted), store_state(drafted)) == before


# --- Names and words each command gets right -------------------------------------------------


@pytest.mark.parametrize("rendering,words", [("Ahvaz\nCity", "line break"), ("<i>Ahvaz</i>", "markup"), ("Ah&#118;az", "markup")])
def test_a_rendering_with_a_line_break_or_markup_is_refused(drafted, rendering, words):
    before = fingerprint(drafted), store_state(drafted)
    result = tarjoman(drafted, "glossary", "approve", "sample", "اهواز", "--en", rendering, "--ar", "الأهواز", "--fr", "Ahvaz", "--ur", "اہواز")
    refused(result, "sample.csv")
    assert words in result.stderr and "--en rendering" in result.stderr
    assert (fingerprint(drafted), store_state(drafted)) == before


def test_a_glossary_import_with_markup_is_refused_with_its_entry(drafted, tmp_path):
    tbx = tmp_path / "terms.tbx"
    assert tarjoman(drafted, "glossary", "export", "sample", "--tbx", str(tbx)).returncode == 0
    exported = tbx.read_text(encoding="utf-8")
    assert "<term>Karun</term>" in exported
    tbx.write_text(exported.replace("<term>Karun</term>", "<term>&lt;script&gt;Karun&lt;/script&gt;</term>", 1), encoding="utf-8")
    before = fingerprint(drafted), store_state(drafted)
    result = tarjoman(drafted, "glossary", "import", "sample", str(tbx))
    refused(result, "terms.tbx")
    assert "markup" in result.stderr
    assert (fingerprint(drafted), store_state(drafted)) == before


@pytest.mark.parametrize("args", [["extract", str(SAMPLE), "--book", "common"], ["extract", "{common}"], ["glossary", "suggest", "common"]],
                         ids=["extract-book", "extract-file-name", "glossary"])
def test_the_book_name_common_is_refused(drafted, tmp_path, args):
    shutil.copy(SAMPLE, tmp_path / "common.docx")
    args = [a.format(common=tmp_path / "common.docx") for a in args]
    before = fingerprint(drafted)
    result = tarjoman(drafted, *args)
    refused(result, "'common'")
    assert "glossaries/common.csv" in result.stderr and "--book" in result.stderr
    assert fingerprint(drafted) == before and not (drafted / "outputs" / "common").exists()


@pytest.mark.parametrize("args,action", [
    (["publish", "sample", "--lang", "xx"], "cannot publish in 'xx'"),
    (["draft", "sample", "--lang", "xx"], "cannot draft into 'xx'"),
    (["review", "import", "sample", "--lang", "xx"], "cannot import review files in 'xx'"),
    (["review", "export", "sample", "--lang", "xx"], "cannot write review files in 'xx'"),
    (["qa", "sample", "--lang", "xx"], "cannot check translations in 'xx'"),
    (["tm", "export", "--lang", "xx"], "cannot export the memory in 'xx'"),
], ids=lambda v: v[0] if isinstance(v, list) else "")
def test_each_command_names_its_own_action_for_an_unknown_language(drafted, args, action):
    before = fingerprint(drafted), store_state(drafted)
    result = tarjoman(drafted, *args)
    refused(result, action)
    assert (fingerprint(drafted), store_state(drafted)) == before


def test_extract_waits_for_no_one_while_a_draft_holds_the_book(drafted):
    """A second extraction while a draft runs would leave review files on the old text: refused."""
    import fcntl

    edited = drafted / "sources" / "edited.docx"
    shutil.copy(SAMPLE, edited)
    before = fingerprint(drafted)
    with open(drafted / "outputs" / "sample" / ".lock", "a+") as handle:  # what `draft` holds while it works
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = tarjoman(drafted, "extract", str(edited), "--book", "sample")
        fcntl.flock(handle, fcntl.LOCK_UN)
    refused(result, "outputs/sample")
    assert "another tarjoman process" in result.stderr
    assert fingerprint(drafted) == before
    assert tarjoman(drafted, "extract", str(edited), "--book", "sample").returncode == 0


# --- Text in the wrong language -----------------------------------------------------------------
# Real sentences of NTREX-128 (../shared/realdata/parallel) saved into the French file: English,
# and Persian (another sentence than the source, so the import's own check does not see it).
NTREX = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "parallel" / "ntrex128"


@pytest.mark.parametrize("pasted,reads_as", [("newstest2019-src.eng.txt", "English"), ("newstest2019-ref.fas.txt", "Persian"),
                                             ("newstest2019-ref.urd.txt", "Urdu")], ids=["english", "persian", "urdu"])
def test_a_translation_in_the_wrong_language_is_found_by_qa_and_kept_out_of_the_book(drafted, tmp_path, pasted, reads_as):
    if not NTREX.is_dir():
        pytest.fail(f"the parallel test set is missing: {NTREX}") if os.environ.get("CI") == "true" else pytest.skip(f"no {NTREX}")
    root = tmp_path / "project"
    shutil.copytree(drafted, root)
    wrong = NTREX.joinpath(pasted).read_text(encoding="utf-8").splitlines()[10]
    right = NTREX.joinpath("newstest2019-ref.fra.txt").read_text(encoding="utf-8").splitlines()[11]
    path = root / "outputs" / "sample" / "review" / "ch01" / "fr.po"
    po = polib.pofile(str(path))
    entries = [e for e in po if e.msgid and not e.obsolete and len(e.msgid.split()) > 3][:2]
    for entry, text in zip(entries, (wrong, right)):
        entry.msgstr = text
        entry.flags = [f for f in entry.flags if f != "fuzzy"]
    po.save(str(path))
    assert tarjoman(root, "review", "import", "sample", "--lang", "fr").returncode == 0  # a translator may save it
    qa = tarjoman(root, "qa", "sample", "--lang", "fr", "--json")
    flagged = [f for f in json.loads(qa.stdout) if f["check"] == "language"]
    assert any(f"reads as {reads_as}" in f["message"] for f in flagged), flagged
    books = root / "outputs" / "sample" / "epub"
    before = fingerprint(root)
    result = tarjoman(root, "publish", "sample", "--lang", "fr")
    refused(result, "review")
    assert f"reads as {reads_as}" in result.stderr and entries[0].msgid[:20] in result.stderr, result.stderr
    assert fingerprint(root) == before  # no book written, an earlier one left as it was
    # A draft edition is made, and shows the Persian sentence where the pasted text was.
    assert tarjoman(root, "publish", "sample", "--lang", "fr", "--draft").returncode == 0
    with zipfile.ZipFile(books / "sample.fr.epub") as book:
        text = "".join(book.read(name).decode("utf-8") for name in book.namelist() if name.endswith(".xhtml"))
    assert right in text and wrong not in text


# --- Model folders: damaged or cut-short weights, missing or damaged tokenizer files, a tokenizer
# that belongs to another model. Each is refused through the real CLI before any draft is written.

GREEDY = GenerationSettings(num_beams=1)
NLLB_TOKENIZER = ("tokenizer.json", "tokenizer_config.json", "sentencepiece.bpe.model")


def cut_in_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def write_bin(folder: Path) -> None:
    """Swap model.safetensors for the same weights as pytorch_model.bin (torch's zip format),
    as transformers wrote them before safetensors."""
    import torch
    from safetensors.torch import load_file

    weights = folder / "model.safetensors"
    torch.save(load_file(weights), folder / "pytorch_model.bin")
    weights.unlink()


def swap_tokenizer(folder: Path, other: str) -> None:
    for name in NLLB_TOKENIZER:
        (folder / name).unlink(missing_ok=True)
        if (Path(other) / name).is_file():
            shutil.copy(Path(other) / name, folder / name)


def empty_tokenizer(folder: Path) -> None:
    from tokenizers import Tokenizer, models

    Tokenizer(models.BPE()).save(str(folder / "tokenizer.json"))  # transformers then adds the special tokens and language codes


def damage_header(folder: Path) -> None:
    path = folder / "model.safetensors"
    data = bytearray(path.read_bytes())
    (length,) = struct.unpack("<Q", data[:8])
    assert length > 16
    data[8:20] = b"#not-json!!!"
    path.write_bytes(bytes(data))


# case: (model copied, how it is damaged, the file the message must name, relative to the copy)
CASES = {
    "safetensors-bad-header": ("nllb", damage_header, "model.safetensors"),
    "safetensors-truncated": ("nllb", lambda f: cut_in_half(f / "model.safetensors"), "model.safetensors"),
    "bin-truncated": ("nllb", lambda f: (write_bin(f), cut_in_half(f / "pytorch_model.bin")), "pytorch_model.bin"),
    "no-weights": ("nllb", lambda f: (f / "model.safetensors").unlink(), ""),
    "no-tokenizer-files": ("nllb", lambda f: [(f / n).unlink() for n in NLLB_TOKENIZER], ""),
    "tokenizer-json-corrupt": ("nllb", lambda f: cut_in_half(f / "tokenizer.json"), "tokenizer.json"),
    "spm-model-truncated": ("nllb", lambda f: cut_in_half(f / "sentencepiece.bpe.model"), "sentencepiece.bpe.model"),
    "tokenizer-of-another-model": ("nllb", "mbart50", "tokenizer.json"),  # fewer tokens than the model's embeddings
    "tokenizer-of-a-larger-model": ("mbart50", "nllb", "tokenizer.json"),  # token IDs past the embeddings
    "tokenizer-empty": ("nllb", empty_tokenizer, "tokenizer.json"),
    "marian-spm-truncated": ("marian", lambda f: cut_in_half(f / "fa-en" / "source.spm"), "fa-en/source.spm"),
}
# What the line must say besides the file: the next step, or the files looked for.
WORDS = {"no-weights": "model.safetensors", "no-tokenizer-files": "tokenizer.json"}
CT2_CASES = ["safetensors-truncated", "no-tokenizer-files", "tokenizer-of-another-model"]


@pytest.fixture
def bad_model(tiny_models, tmp_path, request):
    """A copy of a tiny model, damaged as the case says; returns (folder, the file to name)."""
    base, damage, name = CASES[request.param]
    folder = tmp_path / request.param
    shutil.copytree(tiny_models[base], folder)
    if isinstance(damage, str):
        swap_tokenizer(folder, tiny_models[damage])
    else:
        damage(folder)
    return folder, folder / name if name else folder


BACKEND_CASES = [pytest.param(case, "transformers", id=case) for case in CASES] + [
    pytest.param(case, "ctranslate2", id=f"{case}-ctranslate2") for case in CT2_CASES
]


@pytest.mark.parametrize(("bad_model", "backend"), BACKEND_CASES, indirect=["bad_model"])
def test_bad_model_folders_are_refused_and_change_nothing(drafted, bad_model, backend):
    folder, named = bad_model
    before = fingerprint(drafted)
    result = tarjoman(drafted, "draft", "sample", "--lang", "fr", "--model", str(folder), "--backend", backend)
    refused(result, str(named))
    case = folder.name
    assert WORDS.get(case, "model") in result.stderr
    if "tokenizer-of" in case or case == "tokenizer-empty":
        assert "not this model's tokenizer" in result.stderr
    assert fingerprint(drafted) == before


@pytest.mark.parametrize("variant", ["safetensors", "pytorch-model-bin", "tokenizer-json-only", "sentencepiece-only"])
def test_sound_model_folders_still_translate(tiny_models, tmp_path, variant):
    folder = tmp_path / variant
    shutil.copytree(tiny_models["nllb"], folder)
    if variant == "pytorch-model-bin":
        write_bin(folder)
    elif variant == "tokenizer-json-only":  # as tarjoman.adapt saves a model
        (folder / "sentencepiece.bpe.model").unlink()
    elif variant == "sentencepiece-only":  # transformers builds tokenizer.json from the .model
        (folder / "tokenizer.json").unlink()
    engine = load_engine(str(folder), settings=GREEDY)
    assert engine.info.family == "nllb"
    out = engine.translate(["سلام، حال شما چطور است؟"], "fa", "fr")
    assert len(out) == 1 and isinstance(out[0], str)


def test_a_damaged_conversion_in_the_cache_is_converted_again(tiny_models, tmp_path):
    folder = tmp_path / "nllb-converted"
    shutil.copytree(tiny_models["nllb"], folder)
    model_bin = load_engine(str(folder), backend="ctranslate2", settings=GREEDY).folder / "model.bin"
    size = model_bin.stat().st_size
    cut_in_half(model_bin)
    script = "import sys; from tarjoman.engines import load_engine; print(load_engine(sys.argv[1], backend='ctranslate2').translate(['سلام'], 'fa', 'fr'))"
    result = subprocess.run([sys.executable, "-c", script, str(folder)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert result.stdout.startswith("[")
    assert model_bin.stat().st_size == size  # converted again, in place


@pytest.mark.parametrize("args", [["review", "export", "sample", "--lang", "fr"], ["qa", "sample", "--lang", "fr"],
                                  ["glossary", "approve", "sample", "اهواز", "--en", "Ahvaz", "--ar", "الأهواز", "--fr", "Ahvaz", "--ur", "اہواز"]],
                         ids=["review-export", "qa", "glossary-approve"])
def test_a_project_this_user_may_not_write_is_one_line_and_changes_nothing(reviewed, args):
    """The project belongs to root; the command runs as ``nobody`` (root's own writes are never refused)."""
    import tempfile

    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    probe = subprocess.run([*nobody, sys.executable, "-c", "import tarjoman.cli"], capture_output=True, text=True) if os.geteuid() == 0 and shutil.which("setpriv") else None
    if probe is None or probe.returncode != 0:
        pytest.skip("needs root, setpriv, and this Python readable by nobody: " + (probe.stderr.strip()[-200:] if probe else "not root"))
    place = Path(tempfile.mkdtemp(prefix="tarjoman-theirs-"))
    try:
        root = place / "project"
        shutil.copytree(reviewed, root)
        for path in [place, *root.rglob("*"), root]:
            path.chmod(0o755 if path.is_dir() else 0o644)  # readable by everyone, writable by root alone
        before = fingerprint(root), store_state(root)
        result = subprocess.run([*nobody, sys.executable, "-m", "tarjoman", "--root", str(root), *args], capture_output=True, text=True, timeout=300,
                                env={**os.environ, "HOME": str(place), "TARJOMAN_LOG_DIR": str(place / "logs")})
        refused(result, str(root))
        assert "permission" in result.stderr or "not allowed" in result.stderr or "read-only" in result.stderr, result.stderr
        assert (fingerprint(root), store_state(root)) == before
    finally:
        shutil.rmtree(place, ignore_errors=True)
