"""TMX: export of approved translations, and a safe reader for memories made in other CAT tools.

``tmx_document`` writes TMX 1.4b, for CAT tools that do not read PO.

``read_tmx`` reads a TMX 1.1–1.4 file (OmegaT, Trados, memoQ, Phrase…) into one ``TmxUnit`` per
(``<tu>``, target ``<tuv>``) pair, or raises ``MemoryFileError`` naming the file and the line —
never a part of the file. It streams the file through expat, which never reads a DTD, and:

* accepts the root ``<tmx version="1.1">`` to ``"1.4"``; a ``<header>`` whose ``srclang`` is the
  source language or ``*all*``; ``xml:lang`` or TMX 1.1's ``lang``; language codes in any case,
  with any region (``FA``, ``fa-IR``, ``fa_IR`` and ``pes`` are all Persian); UTF-8 or UTF-16; a
  bare ``<!DOCTYPE tmx SYSTEM "tmx14.dtd">``, which OmegaT writes in every file (it is not read);
* keeps the text of ``<hi>`` and ``<sub>``, drops inline codes (``<bpt> <ept> <it> <ph> <ut>``,
  the native markup), collapses each run of white space to one space, or to one line break if it
  holds one (verse); ignores ``<prop>``; collects the ``<note>``s of the tu and of its two tuvs;
* skips, silently, a pair whose source or target ``<seg>`` is empty (OmegaT's untranslated);
* refuses: a file over 512 MiB; any other DOCTYPE (an internal subset is where entity
  declarations, billion laughs and external entities live); an entity it cannot resolve; a
  processing instruction; malformed XML, or an encoding other than UTF-8/UTF-16; another root,
  version or source language; a ``<tuv>`` in a language that is neither the source nor a target;
  a ``<tu>`` without a source or a target ``<tuv>``, or with two in one language; a ``<tuv>``
  without exactly one ``<seg>``; an element TMX does not allow in a ``<seg>``; control characters;
  and a file in which no pair is left.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, NoReturn
from xml.parsers import expat

from . import __version__
from .errors import MemoryFileError
from .languages import TARGETS, UnknownLanguage, canonical, is_language, language

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
MAX_BYTES = 512 * 1024 * 1024
CHUNK_BYTES = 1024 * 1024


def tmx_document(pairs: list[tuple[str, str, str, str]], source_lang: str = "fa") -> str:
    """``pairs`` of (unit id, target language, source, translation) → a TMX document."""
    root = ET.Element("tmx", version="1.4")
    ET.SubElement(root, "header", {
        "creationtool": "Tarjoman", "creationtoolversion": __version__, "segtype": "sentence",
        "o-tmf": "gettext PO", "adminlang": "en", "srclang": source_lang, "datatype": "plaintext",
        "creationdate": datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"),
    })
    body = ET.SubElement(root, "body")
    for unit_id, lang, source, translation in pairs:
        tu = ET.SubElement(body, "tu", tuid=unit_id)
        for code, text in ((source_lang, source), (lang, translation)):
            tuv = ET.SubElement(tu, "tuv", {XML_LANG: code})
            ET.SubElement(tuv, "seg").text = text
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TmxUnit:
    """One translation from a memory: a Persian segment and its rendering in one target language."""

    source: str  # the Persian segment text
    lang: str  # Tarjoman target code: "ar", "en", "fr" or "ur"
    text: str  # the translation
    line: int  # line of the <tu> in the file
    who: str = ""  # changeid, else creationid, of the target <tuv> (or the <tu>)
    changed: str = ""  # changedate, else creationdate, as written (e.g. 20240102T101500Z)
    note: str = ""  # text of the <note>s of the tu and its two tuvs, joined with "\n"


def read_tmx(
    path: Path, *, source_lang: str = "fa", targets: Iterable[str] = TARGETS
) -> list[TmxUnit]:
    """Every (source, translation) pair of the TMX file at ``path``, or ``MemoryFileError``."""
    path = Path(path)
    reader = _Reader(path, _code(source_lang), tuple(dict.fromkeys(_code(t) for t in targets)))
    try:
        if path.stat().st_size > MAX_BYTES:
            raise MemoryFileError(
                f"the file is larger than {MAX_BYTES // 2**20} MiB; split the memory by "
                "project or language in the CAT tool and import the parts", path=path)
        with path.open("rb") as stream:
            reader.feed(stream)
    except OSError as exc:
        raise MemoryFileError(f"cannot read the file: {exc.strerror or exc}", path=path) from exc
    return reader.units


_PARENTS = {"header": "tmx", "body": "tmx", "tu": "body", "tuv": "tu", "seg": "tuv"}
_KEPT = {"hi", "sub"}  # their content is text of the segment
_CODES = {"bpt", "ept", "it", "ph", "ut"}  # their content is the native markup
_ENCODINGS = {"utf-8", "utf8", "utf-16", "utf16", "utf-16le", "utf-16be"}
_DTD = re.compile(r"(?:.*[/\\])?tmx\d*b?\.dtd", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BREAK = re.compile(r"[ \t\r\n]*[\r\n][ \t\r\n]*")
_SPACES = re.compile(r"[ \t]+")


def _code(lang: str) -> str:
    """``"fa-IR"``, ``"FA"``, ``"fa_IR"``, ``"pes"`` → ``"fa"``; ``"zh-CN"`` → ``"zh-Hans"``: the
    language as Tarjoman writes it, without a region. A code that is no language stays as written
    (lower case), and is refused as a language the memory does not hold."""
    try:
        return canonical(lang, territory=False)
    except UnknownLanguage:
        return lang.strip().lower().replace("_", "-")


def _name(code: str) -> str:
    """``"fa"`` → ``"Persian"``; a code Tarjoman does not know, as it is."""
    return language(code).name if is_language(code) else code


def _names(codes: Iterable[str]) -> str:
    """``("ar", "en", "fr")`` → ``"Arabic, English or French"``."""
    names = [_name(code) for code in codes] or ["no other language"]
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]


def _called(lang: str) -> str:
    """A language as a file writes it: ``English ("en-US")``, or ``"de-DE"``."""
    return f'{language(_code(lang)).name} ("{lang}")' if is_language(_code(lang)) else f'"{lang}"'


@dataclass
class _Tuv:
    lang: str
    line: int
    who: str
    changed: str
    text: str | None = None  # None until its <seg> is read
    notes: list[str] = field(default_factory=list)


@dataclass
class _Tu:
    line: int
    who: str
    changed: str
    tuvs: dict[str, _Tuv] = field(default_factory=dict)  # by Tarjoman code
    notes: list[str] = field(default_factory=list)


def _who(attrs: dict[str, str]) -> str:
    return (attrs.get("changeid") or attrs.get("creationid") or "").strip()


def _changed(attrs: dict[str, str]) -> str:
    return (attrs.get("changedate") or attrs.get("creationdate") or "").strip()


class _Reader:
    """expat's handlers for one file; ``units`` is complete only once ``feed`` has returned."""

    def __init__(self, path: Path, source: str, targets: tuple[str, ...]):
        self.path, self.source, self.targets = path, source, targets
        self.units: list[TmxUnit] = []
        self.stack: list[str] = []  # names of the open elements
        self.header = False
        self.tu_count = 0
        self.tu: _Tu | None = None
        self.tuv: _Tuv | None = None
        self.seg: list[str] = []
        self.keep: list[bool] = []  # inside a <seg>: whether each open level's text is kept
        self.seg_line = 0
        self.note: list[str] | None = None
        self.note_into: list[str] = []
        self.note_line = 0
        # Namespace handling off: the attribute arrives as "xml:lang", as written.
        p = self.parser = expat.ParserCreate()
        p.buffer_text = True
        p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        p.XmlDeclHandler = self._xml_decl
        p.StartDoctypeDeclHandler = self._doctype
        p.EntityDeclHandler = self._entity_decl
        p.ExternalEntityRefHandler = self._external_entity
        p.SkippedEntityHandler = self._skipped_entity
        p.ProcessingInstructionHandler = self._processing_instruction
        p.StartElementHandler = self._start
        p.EndElementHandler = self._end
        p.CharacterDataHandler = self._text

    def fail(self, message: str, line: int | None = None) -> NoReturn:
        line = line or self.parser.CurrentLineNumber
        raise MemoryFileError(message, path=self.path, where=f"line {line}")

    def feed(self, stream: BinaryIO) -> None:
        read = 0
        try:
            while chunk := stream.read(CHUNK_BYTES):
                read += len(chunk)
                if read > MAX_BYTES:  # it grew since it was measured
                    self.fail(f"the file grew past {MAX_BYTES // 2**20} MiB while it was read")
                self.parser.Parse(chunk, False)
            self.parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise MemoryFileError(
                f"not well-formed XML: {expat.ErrorString(exc.code)} (column {exc.offset + 1}); "
                "the file is damaged or not TMX — export the memory again from the CAT tool as TMX",
                path=self.path, where=f"line {exc.lineno}") from exc
        if not self.header:
            self.fail("the file has no <header srclang=…>; export the memory again as TMX")
        if not self.units:
            raise MemoryFileError(
                f"no translation units in {_name(self.source)} and {_names(self.targets)}: "
                f"none of its {self.tu_count} <tu> has both texts filled in", path=self.path)

    # -- what a TMX file must not hold

    def _xml_decl(self, version: str, encoding: str | None, standalone: int) -> None:
        if encoding and encoding.lower() not in _ENCODINGS:
            self.fail(f"the file is in {encoding}; Tarjoman reads TMX in UTF-8 or UTF-16 — "
                      "save it again as UTF-8")

    def _doctype(self, name: str, system_id: str | None, public_id: str | None, internal: int):
        # OmegaT and the Translate Toolkit write <!DOCTYPE tmx SYSTEM "tmx14.dtd"> in every file;
        # expat never reads that DTD. Anything more is where entities would be declared.
        if name != "tmx" or internal or (system_id and not _DTD.fullmatch(system_id)):
            self.fail("the file has a DOCTYPE of its own, which could declare entities or read "
                      "other files, so it is refused; a memory needs none — export it again from "
                      'the CAT tool, or remove the <!DOCTYPE …> (<!DOCTYPE tmx SYSTEM "tmx14.dtd"> '
                      "may stay)")

    def _entity_decl(self, name: str, *args: object) -> None:
        self.fail(f"the file declares an entity ({name}), which a memory has no need of; refused")

    def _external_entity(self, context: str, base: str | None, system_id: str | None,
                         public_id: str | None) -> int:
        self.fail("the file refers to an external entity, which is never read; refused")

    def _skipped_entity(self, name: str, is_parameter: int) -> None:
        self.fail(f"the file uses the entity &{name}; which it does not define; write the "
                  "character itself (only &amp; &lt; &gt; &quot; &apos; and &#…; are allowed)")

    def _processing_instruction(self, target: str, data: str) -> None:
        self.fail(f"the file holds a processing instruction <?{target} …?>, which TMX has no use "
                  "for; remove it")

    # -- elements and text

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        line = self.parser.CurrentLineNumber
        parent = self.stack[-1] if self.stack else None
        self.stack.append(name)
        if self.keep:
            self._start_inline(name)
        elif parent is None:
            self._start_root(name, attrs)
        elif _PARENTS.get(name, parent) != parent:
            self.fail(f"a <{name}> inside a <{parent}>; TMX puts it in a <{_PARENTS[name]}>")
        elif name == "header":
            self._start_header(attrs)
        elif name == "body" and not self.header:
            self.fail("<body> comes before any <header srclang=…>; export the memory again as TMX")
        elif name == "tu":
            self._start_tu(attrs, line)
        elif name == "tuv":
            self._start_tuv(attrs, line)
        elif name == "seg":
            if self.tuv.text is not None:
                self.fail("a second <seg> in one <tuv>; a variant holds one segment")
            self.seg, self.keep, self.seg_line = [], [True], line
        elif name == "note" and parent in ("tu", "tuv"):
            self.note, self.note_line = [], line
            self.note_into = (self.tuv or self.tu).notes

    def _start_root(self, name: str, attrs: dict[str, str]) -> None:
        if name != "tmx":
            self.fail(f"the root element is <{name}>, not <tmx>: this is not a TMX file — export "
                      "the memory from the CAT tool as TMX")
        version = attrs.get("version", "").strip()
        if not re.fullmatch(r"1\.[1-4]b?", version):
            self.fail(f'TMX version "{version}": Tarjoman reads TMX 1.1 to 1.4 — export as TMX 1.4')

    def _start_header(self, attrs: dict[str, str]) -> None:
        if self.header:
            self.fail("a second <header>; a TMX file has one")
        srclang = attrs.get("srclang", "").strip()
        if not srclang:
            self.fail("the <header> has no srclang; export the memory again as TMX")
        self._check_source(srclang)
        self.header = True

    def _check_source(self, srclang: str) -> None:
        if srclang.lower() != "*all*" and _code(srclang) != self.source:
            source = _name(self.source)
            self.fail(f"this memory is from {_called(srclang)}, Tarjoman's memory is {source} → "
                      f"import a memory whose source language is {source}")

    def _start_tu(self, attrs: dict[str, str], line: int) -> None:
        if attrs.get("srclang"):
            self._check_source(attrs["srclang"])
        self.tu_count += 1
        self.tu = _Tu(line, _who(attrs), _changed(attrs))

    def _start_tuv(self, attrs: dict[str, str], line: int) -> None:
        lang = (attrs.get("xml:lang") or attrs.get("lang") or "").strip()
        if not lang:
            self.fail("a <tuv> without xml:lang; every variant must say its language")
        code = _code(lang)
        if code != self.source and code not in self.targets:
            self.fail(f"a <tuv> in {_called(lang)}; this memory may hold only {_name(self.source)} "
                      f"and {_names(self.targets)} — export it again without {lang}")
        if code in self.tu.tuvs:
            self.fail(f"a second <tuv> in {_name(code)} in the <tu> of line {self.tu.line}; keep "
                      "one variant per language")
        self.tuv = self.tu.tuvs[code] = _Tuv(lang, line, _who(attrs), _changed(attrs))

    def _start_inline(self, name: str) -> None:
        if name in _KEPT:
            self.keep.append(name == "sub" or self.keep[-1])
        elif name in _CODES:
            self.keep.append(False)
        else:
            self.fail(f"a <{name}> inside a <seg>; TMX allows only text, <hi>, <sub> and the "
                      "inline codes <bpt> <ept> <it> <ph> <ut> there")

    def _text(self, data: str) -> None:
        if self.keep:
            if self.keep[-1]:
                self.seg.append(data)
        elif self.note is not None:
            self.note.append(data)

    def _end(self, name: str) -> None:
        self.stack.pop()
        if self.keep:
            self.keep.pop()
            if not self.keep:  # the </seg>
                self.tuv.text = self._clean(self.seg, self.seg_line)
                self.seg = []
        elif name == "note" and self.note is not None:
            if text := self._clean(self.note, self.note_line):
                self.note_into.append(text)
            self.note = None
        elif name == "tuv" and self.tuv:
            if self.tuv.text is None:
                self.fail("this <tuv> has no <seg>; every variant holds one", self.tuv.line)
            self.tuv = None
        elif name == "tu" and self.tu:
            self._end_tu(self.tu)
            self.tu = None

    def _clean(self, parts: list[str], line: int) -> str:
        text = "".join(parts)
        if bad := _CONTROL.search(text):
            self.fail(f"control character U+{ord(bad.group()):04X} in the text; remove it", line)
        return _SPACES.sub(" ", _BREAK.sub("\n", text)).strip()

    def _end_tu(self, tu: _Tu) -> None:
        source = tu.tuvs.get(self.source)
        if source is None:
            self.fail(f"this <tu> has no {_name(self.source)} <tuv>; every unit needs its source",
                      tu.line)
        translations = [tuv for code, tuv in tu.tuvs.items() if code != self.source]
        if not translations:
            self.fail(f"this <tu> has only its {_name(self.source)} text and no translation; "
                      "export the memory again with its target languages", tu.line)
        if not source.text:
            return
        for tuv in translations:
            if tuv.text:
                note = "\n".join(tu.notes + source.notes + tuv.notes)
                self.units.append(TmxUnit(source.text, _code(tuv.lang), tuv.text, tu.line,
                                          tuv.who or tu.who, tuv.changed or tu.changed, note))
