"""A translator at the desk, through the library: read sentences' current versions, think a
moment, save texts of her own against those versions; in a loop until the deadline.

Most saves are one sentence, some several at once (one transaction); most approve, a few
(``--drafts``, a probability) save an unapproved draft, which she or another translator approves
again soon after, so that a book is sometimes refused while a draft stands. A save is reported
(``uid  version  text  state``, one line a sentence) only once ``apply_edits`` returned it
applied, every sentence of it; a conflict (someone saved a sentence since she read it) is not
a save.

    python tests/workers/translator.py --root ROOT --logs DIR --name t1 --incarnation 0 \\
        --deadline EPOCH --seed 1 --drafts 0.05
"""

from __future__ import annotations

import time

from common import BOOK, SavedLog, arguments, rng, running

from tarjoman.store import Edit, Store
from tarjoman.store.core import require_book, segments, translations
from tarjoman.store.translations import apply_edits

HOT = 6  # the first sentences of the book, where translators meet


def main() -> None:
    args = arguments("--drafts")
    random, log = rng(args), SavedLog(args)
    draft_share = float(args.drafts or 0)
    n = 0
    while running(args):
        with Store.for_root(args.root) as store:
            with store.read() as session:
                book = require_book(session, BOOK)
                uids = [s.uid for s in segments(session, book)]
                found = translations(session, book, "fr")
            pending = [uid for uid in uids if uid in found and found[uid].state == "draft"]
            chosen = set()
            for _ in range(random.choice([1, 1, 1, 2, 3])):
                if pending and random.random() < 0.7:
                    chosen.add(random.choice(pending))
                else:
                    chosen.add(random.choice(uids[:HOT] if random.random() < 0.3 else uids))
            edits = []
            for uid in sorted(chosen, key=lambda _: random.random()):
                n += 1
                state = "draft" if random.random() < draft_share else "approved"
                word = "Brouillon" if state == "draft" else "Relu"
                base = found[uid].version if uid in found else 0
                edits.append(Edit(uid, f"{word} de {args.name}, passage {args.incarnation}.{n}.", state, base, "desk"))
            time.sleep(random.uniform(0, 0.05))  # reading the sentences: others may save them meanwhile
            outcome = apply_edits(store, BOOK, {"fr": edits}, who=args.name, origin="translator")
        if outcome.applied == len(edits):
            for edit in edits:
                log.report(edit.uid, outcome.versions[("fr", edit.uid)], edit.text, edit.state)
        time.sleep(random.uniform(0.1, 0.4))


if __name__ == "__main__":
    main()
