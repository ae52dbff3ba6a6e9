"""What the review store hands out and takes in: plain dataclasses, never ORM rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

STATES = ("empty", "draft", "approved")
PERSON_ORIGINS = ("translator", "import")


@dataclass(frozen=True)
class SegmentView:
    uid: str
    chapter: str
    position: int
    source: str
    lang: str
    kind: str
    where: str
    context: str
    msgctxt: str | None
    paragraph: str
    obsolete: bool


@dataclass(frozen=True)
class TranslationView:
    uid: str
    lang: str
    text: str
    state: str
    version: int
    origin: str
    engine: str
    changed_by: str
    changed_at: datetime | None
    previous_source: str | None
    note: str
    suggestion: str
    suggestion_engine: str
    machine_draft: str
    machine_engine: str
    qa: list[str] = field(default_factory=list)

    @property
    def approved(self) -> bool:
        return self.state == "approved" and bool(self.text)

    @property
    def fuzzy(self) -> bool:
        return self.state == "draft" and bool(self.text)


@dataclass(frozen=True)
class ChangeView:
    id: int
    uid: str | None
    lang: str | None
    term: str | None
    action: str
    who: str
    at: datetime
    version: int
    old_text: str
    new_text: str
    old_state: str
    new_state: str
    origin: str
    why: str


@dataclass(frozen=True)
class ConflictView:
    id: int
    uid: str
    lang: str
    chapter: str
    source: str
    base_version: int
    current_version: int
    current_text: str
    theirs_text: str
    theirs_state: str
    who: str
    where: str
    created_at: datetime
    resolved_at: datetime | None
    resolution: str

    def __str__(self) -> str:
        return (f"{self.where}: conflict on {self.uid} ({self.lang}): the file has «{self.theirs_text}», "
                f"the store has «{self.current_text}» (changed since version {self.base_version} of the file)")


@dataclass(frozen=True)
class DraftIn:
    """A machine draft to record for one segment: ``origin`` is machine, tm or carried; a memory
    match (``engine`` names its source, ``tm:book/uid``) may be recorded ``approve``d."""

    uid: str
    text: str
    origin: str
    engine: str = ""
    approve: bool = False
    problem: str = ""  # why the machine left it empty, or drafted it another way: shown to the translator


@dataclass(frozen=True)
class Edit:
    """A person's change to one translation, as an exchange file or the desk brings it.

    ``base_version`` is the version the person started from (None: unknown). An exchange file
    also says ``known_version``, the version the store last knew that file to hold (after it
    was last written or imported), and ``source``, the file, so that a file a translator keeps
    saving and importing is told from an old copy of it saved over a newer one."""

    uid: str
    text: str
    state: str  # draft or approved
    base_version: int | None
    where: str  # file:line, or "desk"
    note: str | None = None  # the translator's comment, when the exchange carries one
    known_version: int | None = None
    source: str = ""


@dataclass
class EditOutcome:
    applied: int = 0
    unchanged: int = 0
    notes: int = 0
    conflicts: list[ConflictView] = field(default_factory=list)
    versions: dict[tuple[str, str], int] = field(default_factory=dict)  # (lang, uid) → version after the edit


@dataclass
class RevisionReport:
    kept: int = 0
    moved: int = 0
    edited: int = 0
    added: int = 0
    removed: int = 0
