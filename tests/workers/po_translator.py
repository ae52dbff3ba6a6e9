"""A translator working in the PO files, as in Poedit: open a chapter's fr.po, rewrite and approve
one entry, save the file (in one step, as editors do), run ``tarjoman review import``; in a loop
until the deadline.

The save is reported (``uid  version  text  approved``) when the import exited 0 and the store's
history holds the text as a change of that sentence (the import may say 0 changes applied when a
concurrent ``draft`` or ``qa`` took the file in first). Every attempt's outcome goes to
``<name>.<incarnation>.outcomes``: applied, conflict (someone saved the sentence since the file
was written), or lost (the file was rewritten before anyone read it in).

    python tests/workers/po_translator.py --root ROOT --logs DIR --name po --incarnation 0 --deadline EPOCH --seed 1
"""

from __future__ import annotations

import os
import re
import time

import polib
from common import BOOK, SavedLog, arguments, rng, running, tarjoman

from tarjoman.store import Store
from tarjoman.store.translations import history

MARK = re.compile(r"tarjoman: (\S+) v(\d+)")


def save(catalog: polib.POFile, path) -> None:
    """Write beside the file, then rename over it: readers see the old file or the new one."""
    partial = path.with_name(f".{path.name}.editor")
    catalog.save(str(partial))
    os.replace(partial, path)


def outcome_of(root, uid: str, text: str) -> tuple[str, int | None]:
    with Store.for_root(root) as store:
        changes = [c for c in history(store, BOOK, uid=uid, lang="fr") if c.new_text == text]
    applied = [c for c in changes if c.action != "conflict"]
    if applied:
        return "applied", applied[-1].version
    return ("conflict" if changes else "lost"), None


def main() -> None:
    args = arguments()
    random, log = rng(args), SavedLog(args)
    review = args.root / "outputs" / BOOK / "review"
    n = 0
    while running(args):
        n += 1
        path = random.choice(sorted(review.glob("*/fr.po")))
        catalog = polib.pofile(str(path), wrapwidth=0)
        entries = [e for e in catalog if not e.obsolete and MARK.search(e.comment or "")]
        entry = random.choice(entries)
        uid = MARK.search(entry.comment).group(1)
        text = f"Relu dans {path.parent.name}/fr.po par {args.name}, passage {args.incarnation}.{n}."
        entry.msgstr = text
        entry.flags = [flag for flag in entry.flags if flag != "fuzzy"]
        entry.previous_msgid = None
        save(catalog, path)
        result = tarjoman(args, "review", "import", BOOK, "--lang", "fr", "--by", args.name)
        if result.returncode == 0:
            outcome, version = outcome_of(args.root, uid, text)
            with open(args.logs / f"{args.name}.{args.incarnation}.outcomes", "a", encoding="utf-8") as handle:
                handle.write(f"{outcome}\t{uid}\t{text}\t{result.stdout.strip()}\n")
            if version is not None:
                log.report(uid, version, text, "approved")
        time.sleep(random.uniform(0.05, 0.3))


if __name__ == "__main__":
    main()
