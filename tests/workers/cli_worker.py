"""A worker that runs one ``tarjoman`` command over and over until the deadline, as a person or a
cron job would: ``drafter``, ``qa``, ``glossary`` (an editor approving new terms) or ``publisher``.

Every run goes to ``<name>.<incarnation>.runs`` (see :func:`common.tarjoman`), for the test to
judge its exit status and stderr. What is reported saved:

- ``glossary``: ``term  {lang: rendering}`` once ``glossary approve`` exited 0;
- ``publisher``: nothing; each book a ``publish`` exit 0 wrote is copied to ``<logs>/epubs/``.

    python tests/workers/cli_worker.py drafter --model DIR --root ROOT --logs DIR --name d --incarnation 0 --deadline EPOCH --seed 1
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time

from common import BOOK, SavedLog, arguments, rng, running, tarjoman

LETTERS = "بپتثجچحخدذ"  # one a digit: terms no manuscript has, written in Persian letters


def spelled(number: int) -> str:
    return "".join(LETTERS[int(digit)] for digit in str(number))


def draft(args, n: int, _log) -> None:
    beams = 1 + (args.incarnation + n) % 2  # other beams, other drafts: they must never replace approved text
    tarjoman(args, "draft", BOOK, "--lang", "fr,en", "--model", args.model, "--beams", str(beams))


def qa(args, _n: int, _log) -> None:
    tarjoman(args, "qa", BOOK, "--lang", "fr")


def approve_term(args, n: int, log) -> None:
    term = f"واژه{spelled(args.incarnation)}ا{spelled(n)}"  # ا is not among LETTERS: it keeps the two numbers apart
    tag = f"{args.incarnation}-{n}"
    renderings = {"en": f"Term {tag}", "ar": f"مصطلح {tag}", "fr": f"Terme {tag}", "ur": f"اصطلاح {tag}"}
    result = tarjoman(args, "glossary", "approve", BOOK, term, "--by", args.name,
                      *[part for lang, text in renderings.items() for part in (f"--{lang}", text)])
    if result.returncode == 0:
        log.report(term, json.dumps(renderings, ensure_ascii=False))


def publish(args, n: int, _log) -> None:
    result = tarjoman(args, "publish", BOOK, "--lang", "fr")
    if result.returncode == 0:
        folder = args.logs / "epubs"
        folder.mkdir(exist_ok=True)
        kept = folder / f"{args.name}.{args.incarnation}.{n}.epub"
        partial = kept.with_suffix(".partial")
        shutil.copyfile(args.root / "outputs" / BOOK / "epub" / f"{BOOK}.fr.epub", partial)
        os.replace(partial, kept)


ROLES = {"drafter": draft, "qa": qa, "glossary": approve_term, "publisher": publish}
# Seconds between runs: enough for the publisher, whose EPUBCheck wants a core for seconds, to finish books.
PAUSES = {"drafter": (0.5, 1.0), "qa": (2.0, 4.0), "glossary": (1.0, 3.0), "publisher": (0.1, 0.5)}


def main() -> None:
    role = sys.argv.pop(1)
    args = arguments("--model")
    random, log = rng(args), SavedLog(args)
    n = 0
    while running(args):
        n += 1
        ROLES[role](args, n, log)
        time.sleep(random.uniform(*PAUSES[role]))


if __name__ == "__main__":
    main()
