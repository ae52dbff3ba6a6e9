from __future__ import annotations

import re
import subprocess
import sys
import threading

import pytest

from conftest import REALDATA, REPO, require_realdata
from tarjoman.errors import ProjectError
from tarjoman.langid import identify, wrong_language

NTREX = REALDATA / "parallel" / "ntrex128"
FILES = {
    "fa": "newstest2019-ref.fas.txt",
    "ar": "newstest2019-ref.arb.txt",
    "ur": "newstest2019-ref.urd.txt",
    "en": "newstest2019-src.eng.txt",
    "fr": "newstest2019-ref.fra.txt",
}
TARGETS = ("ar", "en", "fr", "ur")
BOOK = ("fa", *TARGETS)


def ntrex(lang: str, n: int = 100, start: int = 0, name: str | None = None) -> list[str]:
    require_realdata()
    path = NTREX / (name or FILES[lang])
    return path.read_text(encoding="utf-8").splitlines()[start : start + n]


def short(lines: list[str]) -> list[str]:
    """The first 3 to 8 words of each line (k = 3 + i mod 6), for lines longer than that."""
    return [
        " ".join(line.split()[: 3 + i % 6])
        for i, line in enumerate(lines)
        if len(line.split()) > 3 + i % 6
    ]


def flagged(texts: list[str], lang: str) -> float:
    others = [t for t in TARGETS if t != lang]
    return sum(wrong_language(t, lang, others=others) is not None for t in texts) / len(texts)


# Lines 201–300: none quoted in another language (line 681 of the English source is French).
@pytest.mark.parametrize("lang", BOOK)
def test_correct_references_are_not_flagged(lang):
    lines = ntrex(lang, start=200)
    assert flagged(lines, lang) <= 0.01
    assert flagged(short(lines), lang) <= 0.01


@pytest.mark.parametrize(
    "wrong, lang",
    [
        ("fr", "en"),
        ("en", "fr"),
        ("ur", "ar"),
        ("ar", "ur"),
        ("fa", "ar"),
        ("fa", "ur"),
        ("fa", "en"),
        ("fa", "fr"),
    ],
)
def test_swapped_languages_are_caught(wrong, lang):
    lines = ntrex(wrong, start=200)
    assert flagged(lines, lang) >= 0.9
    assert flagged(short(lines), lang) >= 0.75


@pytest.mark.parametrize("lang", BOOK)
def test_identify_names_the_language_of_whole_sentences(lang):
    found = [identify(line, BOOK) for line in ntrex(lang, n=50)]
    assert sum(code == lang for code, _ in found) >= 49
    assert all(0.0 <= p <= 1.0 for _, p in found)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "1357",
        "۱۳۵۷/۱۱/۲۲",
        "12:30 — 14:45",
        "Oui.",
        "Bonjour !",
        "نه",
        "نمی‌دانم.",
        "Mohammad Reza Shah Pahlavi",
        "Jean-Paul Sartre",
        "Ayatollah Khomeini, Tehran",
        "https://example.com/chapitre-trois-et-quatre",
    ],
)
def test_short_number_and_name_only_texts_are_not_judged(text):
    assert identify(text, BOOK) == (None, 0.0)
    for lang in TARGETS:
        assert wrong_language(text, lang, others=TARGETS) is None


def test_the_reason_names_both_languages_and_the_source():
    french = "Il est parti sans dire un mot à personne."
    persian = "او بدون هیچ حرفی از اتاق بیرون رفت."
    assert re.fullmatch(
        r"reads as French, not English \(confidence (0\.9\d|1\.00)\)",
        wrong_language(french, "en", others=["fr"]),
    )
    assert wrong_language(persian, "ar").startswith(
        "reads as Persian (the source language), not Arabic (confidence"
    )
    assert wrong_language("غادر الغرفة دون أن يقول كلمة لأحد.", "ur", others=["ar"]).startswith(
        "reads as Arabic, not Urdu"
    )
    assert (
        wrong_language("He left the room without saying a word to anyone.", "en", others=["fr"])
        is None
    )


def test_a_language_outside_the_candidates_cannot_be_named():
    french = "Il est parti sans dire un mot à personne."
    assert identify(french, ["en", "fa"])[0] in ("en", "fa")
    assert wrong_language(french, "en", others=["fr"]) is not None


def test_a_persian_phrase_inside_an_english_sentence_is_not_flagged():
    text = "He whispered «خدا حافظ» and left the room without another word."
    assert wrong_language(text, "en", others=TARGETS) is None


@pytest.mark.parametrize(
    "code, name, rivals",
    [
        ("ckb", "newstest2019-ref.ckb-Arab.txt", ["fa", "ar", "ur"]),
        ("ps", "newstest2019-ref.pus.txt", ["fa", "ar", "ur"]),
        ("hi", "newstest2019-ref.hin.txt", ["ur", "en"]),
        ("tr", "newstest2019-ref.tur.txt", ["en", "fr"]),
        ("ru", "newstest2019-ref.rus.txt", ["en"]),
        ("zh", "newstest2019-ref.zho-CN.txt", ["en"]),
    ],
)
def test_other_languages(code, name, rivals):
    lines = ntrex(code, n=30, name=name)
    assert sum(identify(line, [code, *rivals])[0] == code for line in lines) >= 29


def test_an_unknown_language_code_is_a_project_error():
    with pytest.raises(ProjectError, match="does not know xx"):
        identify("Il est parti sans dire un mot.", ["fr", "xx"])


def test_threads_share_the_model():
    texts = [line for lang in BOOK for line in ntrex(lang, n=20)]
    expected = {
        (t, tuple(c)): identify(t, c)
        for t in texts
        for c in (BOOK, ("en", "fr"), ("fa", "ar", "ur"))
    }
    got: dict = {}

    def work(candidates):
        for t in texts:
            got[t, candidates] = identify(t, candidates)

    threads = [
        threading.Thread(target=work, args=(c,))
        for c in (BOOK, ("en", "fr"), ("fa", "ar", "ur")) * 2
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert got == expected


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )


def test_importing_the_module_does_not_load_the_identifier():
    done = run_python(
        "import sys\n"
        "import tarjoman.langid as langid\n"
        "assert 'py3langid' not in sys.modules, 'imported on import'\n"
        "langid.identify('Il est parti sans dire un mot.', ['en', 'fr'])\n"
        "assert 'py3langid' in sys.modules, 'not imported on use'\n"
    )
    assert done.returncode == 0, done.stderr


def test_a_missing_identifier_is_an_engine_error_naming_the_package():
    done = run_python(
        "import sys\n"
        "sys.modules['py3langid'] = None  # what an uninstalled package looks like to import\n"
        "from tarjoman.errors import EngineError\n"
        "from tarjoman.langid import identify\n"
        "try:\n"
        "    identify('Il est parti sans dire un mot.', ['en', 'fr'])\n"
        "except EngineError as exc:\n"
        "    print(exc)\n"
    )
    assert done.returncode == 0, done.stderr
    assert "pip install 'py3langid>=0.4'" in done.stdout
