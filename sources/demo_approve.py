"""The demo's stand-in for translators: approve every machine draft of a book, unread.

    python sources/demo_approve.py sample

`make demo` runs this between the first pipeline run (which drafts and then waits for
review) and the second (which publishes). In a real project translators review each
sentence in their PO editor instead; nothing else in Tarjoman approves anything. The approvals
go into the review store, recorded as the demo translator's, and the review files are rewritten.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tarjoman.languages import TARGETS
from tarjoman.project import Project
from tarjoman.queue import accept_drafts

if __name__ == "__main__":
    book = sys.argv[1] if len(sys.argv) > 1 else "sample"
    project = Project(Path("."))
    for lang in TARGETS:
        count = accept_drafts(project, book, lang, "Demo translator (accepts machine drafts unread) <demo@example.invalid>")
        print(f"demo approval: {lang}: {count} drafts accepted as they stand")
