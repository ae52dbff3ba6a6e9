"""TMX: the reader takes in what CAT tools write, and refuses whole what is malformed or hostile."""

from __future__ import annotations

import time

import pytest

from tarjoman.errors import MemoryFileError
from tarjoman.tmx import MAX_BYTES, TmxUnit, read_tmx, tmx_document


def doc(*lines: str) -> str:
    """A file of ``lines``, so that a test's line numbers can be counted."""
    return "\n".join(lines) + "\n"


def write(tmp_path, text: str, encoding: str = "utf-8"):
    path = tmp_path / "memory.tmx"
    path.write_bytes(text.encode(encoding))
    return path


def refusal(path, **options) -> str:
    with pytest.raises(MemoryFileError) as caught:
        read_tmx(path, **options)
    return str(caught.value)


XML = '<?xml version="1.0" encoding="UTF-8"?>'
ROOT = '<tmx version="1.4">'
HEAD = (XML, ROOT, '<header srclang="fa"/>', "<body>")
TAIL = ("</body>", "</tmx>")
FA = '<tuv xml:lang="fa"><seg>سلام</seg></tuv>'
EN = '<tuv xml:lang="en"><seg>Hello</seg></tuv>'
FR = '<tuv xml:lang="fr"><seg>Salut</seg></tuv>'
GOOD_TU = f"<tu>{FA}{EN}</tu>"


def tmx(*lines: str) -> str:
    """A memory whose body is ``lines``, the first of them on line 5."""
    return doc(*HEAD, *lines, *TAIL)


# --- what CAT tools write ---------------------------------------------------------------------

# As OmegaT 6 writes its level-2 export: a DOCTYPE naming tmx14.dtd, upper-case codes, who and
# when on the target <tuv>, a comment, <prop>s, and an untranslated segment with an empty target.
OMEGAT = doc(
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE tmx SYSTEM "tmx14.dtd">',
    '<tmx version="1.4">',
    '  <header creationtool="OmegaT" o-tmf="OmegaT TMX" adminlang="EN-US" datatype="plaintext"'
    ' creationtoolversion="6.0.0_0_1bf1729c" segtype="sentence" srclang="FA"/>',
    "  <body>",
    "<!-- Default translations -->",
    "    <tu>",  # line 7
    "      <note>فصل اول</note>",
    '      <tuv xml:lang="FA">',
    "        <seg>من هر روز به مدرسه می‌روم.</seg>",
    "      </tuv>",
    '      <tuv xml:lang="EN-US" changeid="maryam" changedate="20240102T101500Z"'
    ' creationid="reza" creationdate="20231220T083000Z">',
    "        <seg>I go to school every day.</seg>",
    "      </tuv>",
    "    </tu>",
    "    <tu>",  # line 16
    '      <prop type="file">ch01.docx</prop>',
    '      <tuv xml:lang="FA">',
    "        <seg>سال ۱۳۵۷ بود.</seg>",
    "      </tuv>",
    '      <tuv xml:lang="EN-US" creationid="reza" creationdate="20231220T083100Z">',
    "        <seg>It was the year 1357.</seg>",
    "      </tuv>",
    "    </tu>",
    "    <tu>",
    '      <tuv xml:lang="FA">',
    "        <seg>هنوز ترجمه نشده.</seg>",
    "      </tuv>",
    '      <tuv xml:lang="EN-US" creationid="reza" creationdate="20231220T083200Z">',
    "        <seg></seg>",
    "      </tuv>",
    "    </tu>",
    "  </body>",
    "</tmx>",
)

OMEGAT_UNITS = [
    TmxUnit("من هر روز به مدرسه می‌روم.", "en", "I go to school every day.", 7,
            who="maryam", changed="20240102T101500Z", note="فصل اول"),
    TmxUnit("سال ۱۳۵۷ بود.", "en", "It was the year 1357.", 16,
            who="reza", changed="20231220T083100Z"),
]


def test_an_omegat_memory_gives_its_translated_units(tmp_path):
    units = read_tmx(write(tmp_path, OMEGAT))
    assert units == OMEGAT_UNITS
    assert "\u200c" in units[0].source  # the ZWNJ of «می‌روم» survives


def test_omegat_project_save_in_tmx_1_1_with_plain_lang(tmp_path):
    old = OMEGAT.replace("tmx14.dtd", "tmx11.dtd").replace('version="1.4"', 'version="1.1"')
    old = old.replace("xml:lang=", "lang=")
    assert read_tmx(write(tmp_path, old)) == OMEGAT_UNITS


# As Trados Studio writes it: regions in the codes, who and when on the <tu>, three languages in
# one unit, and inline codes around the native markup.
TRADOS = doc(
    '<?xml version="1.0" encoding="utf-8"?>',
    '<tmx version="1.4">',
    '  <header creationtool="SDL Language Platform" creationtoolversion="8.0"'
    ' o-tmf="SDL TM8 Format" datatype="xml" segtype="sentence" adminlang="en-US" srclang="fa-IR">',
    '    <prop type="x-Recognizers">RecognizeAll</prop>',
    "  </header>",
    "  <body>",
    '    <tu creationdate="20240105T120000Z" creationid="TRADOS\\sara"'
    ' changedate="20240106T090000Z" changeid="TRADOS\\nima">',  # line 7
    '      <prop type="x-LastUsedBy">nima</prop>',
    '      <tuv xml:lang="fa-IR"><seg>پدرم <bpt i="1" type="bold">&lt;b&gt;</bpt>هرگز'
    '<ept i="1">&lt;/b&gt;</ept> دروغ نمی‌گفت.<ph x="2" type="fn">&lt;fn id="3"/&gt;</ph>'
    "</seg></tuv>",
    '      <tuv xml:lang="ar-SA"><seg>أبي <bpt i="1">&lt;b&gt;</bpt>لم'
    '<ept i="1">&lt;/b&gt;</ept> يكذب أبداً.<ph x="2">&lt;fn/&gt;</ph></seg></tuv>',
    '      <tuv xml:lang="fr-FR"><seg>Mon père ne mentait <hi type="emphasis">jamais</hi>.'
    '<ph x="2"/></seg></tuv>',  # line 11
    "    </tu>",
    "  </body>",
    "</tmx>",
)

TRADOS_UNITS = [
    TmxUnit("پدرم هرگز دروغ نمی‌گفت.", "ar", "أبي لم يكذب أبداً.", 7,
            who="TRADOS\\nima", changed="20240106T090000Z"),
    TmxUnit("پدرم هرگز دروغ نمی‌گفت.", "fr", "Mon père ne mentait jamais.", 7,
            who="TRADOS\\nima", changed="20240106T090000Z"),
]


def test_a_trados_memory_loses_its_codes_and_keeps_its_text(tmp_path):
    assert read_tmx(write(tmp_path, TRADOS)) == TRADOS_UNITS


def test_a_utf16_memory(tmp_path):
    text = TRADOS.replace('encoding="utf-8"', 'encoding="UTF-16"')
    assert read_tmx(write(tmp_path, text, encoding="utf-16")) == TRADOS_UNITS


def test_targets_narrow_what_a_memory_may_hold(tmp_path):
    path = write(tmp_path, TRADOS)
    assert read_tmx(path, targets=["ar", "fr"]) == TRADOS_UNITS
    message = refusal(path, targets=["ar"])
    assert message.startswith(f"{path} (line 11): ") and '"fr-FR"' in message


def test_what_the_translate_toolkit_writes(tmp_path):
    tmx_storage = pytest.importorskip("translate.storage.tmx")
    memory = tmx_storage.tmxfile(sourcelanguage="fa", targetlanguage="fr")
    memory.addtranslation("من می‌روم.", "fa", "Je pars.", "fr", comment="ch01")
    path = tmp_path / "toolkit.tmx"
    path.write_bytes(bytes(memory))
    assert [(u.source, u.lang, u.text, u.note) for u in read_tmx(path)] == [
        ("من می‌روم.", "fr", "Je pars.", "ch01")]


@pytest.mark.parametrize("srclang, source, target, lang", [
    ("FA", "FA", "EN-US", "en"),
    ("fa-IR", "fa-IR", "en-GB", "en"),
    ("fa_IR", "fa_IR", "AR-SA", "ar"),
    ("pes", "pes", "fr-FR", "fr"),
    ("FA", "fa", "FR-CA", "fr"),
    ("fa", "fa", "ur-PK", "ur"),
    ("*all*", "fa-IR", "ur", "ur"),
])
def test_language_codes_in_any_case_and_region(tmp_path, srclang, source, target, lang):
    text = doc(
        f'<tmx version="1.4"><header srclang="{srclang}"/><body>',
        f'<tu><tuv xml:lang="{source}"><seg>سلام</seg></tuv>'
        f'<tuv xml:lang="{target}"><seg>x</seg></tuv></tu>',
        "</body></tmx>",
    )
    assert read_tmx(write(tmp_path, text)) == [TmxUnit("سلام", lang, "x", 2)]


@pytest.mark.parametrize("seg, text", [
    ('word<ph x="1"/>word', "wordword"),
    ('word <ph x="1">&lt;br/&gt;</ph> word', "word word"),
    ('<it pos="begin">&lt;i&gt;</it>tilted', "tilted"),
    ("<ut>{\\b}</ut>old <hi>bold</hi> text", "old bold text"),
    ('see <ph>&lt;img alt="<sub>the map</sub>"&gt;</ph>', "see the map"),
    ("a\tb   c ", "a b c"),
    ("  first line  \n   second line ", "first line\nsecond line"),
    ("first line\r\nsecond line", "first line\nsecond line"),
    ("<![CDATA[a < b]]>", "a < b"),
    ("18&#xA0;h", "18\xa0h"),  # a no-break space is not white space to collapse
    ("می\u200cروم", "می\u200cروم"),
])
def test_seg_content(tmp_path, seg, text):
    memory = tmx(f'<tu>{FA}<tuv xml:lang="fr"><seg>{seg}</seg></tuv></tu>')
    [unit] = read_tmx(write(tmp_path, memory))
    assert unit.text == text


def test_notes_of_the_unit_and_its_variants(tmp_path):
    memory = tmx(
        '<tu tuid="7"><note>tu note</note><prop type="x">ignored</prop>'
        '<tuv xml:lang="fa"><note>source note</note><seg>سلام</seg></tuv>'
        '<tuv xml:lang="en"><prop type="y">ignored</prop><seg>Hi</seg>'
        "<note>target note</note></tuv>"
        f"{FR}</tu>"
    )
    assert [u.note for u in read_tmx(write(tmp_path, memory))] == [
        "tu note\nsource note\ntarget note", "tu note\nsource note"]


def test_empty_pairs_are_skipped(tmp_path):
    memory = tmx(
        f'<tu><tuv xml:lang="fa"><seg>  </seg></tuv>{EN}</tu>',
        f'<tu>{FA}<tuv xml:lang="en"><seg><ph/></seg></tuv>'
        '<tuv xml:lang="ar"><seg>مرحبا</seg></tuv></tu>',
    )
    assert read_tmx(write(tmp_path, memory)) == [TmxUnit("سلام", "ar", "مرحبا", 6)]


def test_what_tarjoman_writes_it_reads_back(tmp_path):
    pairs = [
        ("ch01:1", "en", "من هر روز به مدرسه می‌روم.", "I go to school every day."),
        ("ch01:2", "fr", "تام و جری", "Tom & Jerry <script>"),
        ("ch01:3", "ar", "در سال ۱۳۵۷", "في عام ١٣٥٧"),
        ("ch02:1", "ur", "مصراع اول\nمصراع دوم", "پہلا مصرع\nدوسرا مصرع"),
    ]
    units = read_tmx(write(tmp_path, tmx_document(pairs)))
    assert [(u.source, u.lang, u.text) for u in units] == [(s, lang, t) for _, lang, s, t in pairs]


def test_a_large_memory_is_read_across_chunks(tmp_path):
    # Over one chunk (1 MiB) of units: expat's input ends in the middle of some of them.
    tus = [f'<tu><tuv xml:lang="fa"><seg>جمله {n}</seg></tuv>'
           f'<tuv xml:lang="en"><seg>Sentence {n}</seg></tuv></tu>' for n in range(20_000)]
    path = write(tmp_path, tmx(*tus))
    assert path.stat().st_size > 1024 * 1024
    units = read_tmx(path)
    assert len(units) == 20_000
    assert units[-1] == TmxUnit("جمله 19999", "en", "Sentence 19999", 20_004)


# --- what is refused --------------------------------------------------------------------------

REFUSED = [
    # (case, file, line of the fault, words the message must hold)
    ("unclosed tag", tmx("<tu>", '<tuv xml:lang="fa"><seg>سلام</tuv>', "</tu>"),
     6, "mismatched tag"),
    ("processing instruction", doc(XML, '<?xml-stylesheet href="memory.xsl"?>', *HEAD[1:], *TAIL),
     2, "processing instruction"),
    ("php in the body", tmx("<?php system($_GET['c']); ?>"), 5, "processing instruction"),
    ("English source", doc(XML, ROOT, '<header srclang="en"/>', "<body>", *TAIL),
     3, "from English"),
    ("a unit from English", tmx('<tu srclang="en-US">'), 5, "from English"),
    ("German variant", tmx("<tu>", FA, '<tuv xml:lang="de-DE"><seg>Hallo</seg></tuv>', "</tu>"),
     7, '"de-DE"'),
    ("no source variant", tmx(GOOD_TU, f"<tu>{EN}{FR}</tu>"), 6, "no Persian <tuv>"),
    ("no target variant", tmx(GOOD_TU, "<tu>", FA, "</tu>"), 6, "no translation"),
    ("two variants in one language",
     tmx("<tu>", FA, EN.replace("en", "en-US"), EN.replace("en", "en-GB"), "</tu>"),
     8, "second <tuv> in English"),
    ("variant without seg", tmx("<tu>", FA, '<tuv xml:lang="en">', "</tuv>", "</tu>"),
     7, "no <seg>"),
    ("two segs", tmx('<tu><tuv xml:lang="fa"><seg>سلام</seg><seg>دوباره</seg></tuv></tu>'),
     5, "second <seg>"),
    ("variant without language", tmx("<tu>", "<tuv><seg>سلام</seg></tuv>", "</tu>"),
     6, "without xml:lang"),
    ("variant outside a unit", tmx(FA), 5, "inside a <body>"),
    ("foreign markup in a seg", tmx("<tu>", '<tuv xml:lang="fa"><seg>سلام <b>دوست</b></seg>'),
     6, "<b> inside a <seg>"),
    ("C0 control character", tmx("<tu>", '<tuv xml:lang="fa"><seg>سلام&#x1;</seg></tuv>'),
     6, "invalid character"),
    ("C1 control character", tmx(GOOD_TU, f'<tu>{FA}<tuv xml:lang="en">', "<seg>Hi\x85</seg>"),
     7, "U+0085"),
    ("undefined entity", tmx("<tu>", '<tuv xml:lang="fa"><seg>a&nbsp;b</seg></tuv>'),
     6, "undefined entity"),
    ("wrong root", doc(XML, '<xliff version="1.2">', "</xliff>"), 2, "not <tmx>"),
    ("TMX 2", doc(XML, '<tmx version="2.0">', *HEAD[2:], GOOD_TU, *TAIL), 2, 'version "2.0"'),
    ("no header", doc(XML, ROOT, "<body>", GOOD_TU, *TAIL), 3, "before any <header"),
    ("header without srclang", doc(XML, ROOT, '<header adminlang="en"/>', "<body>", *TAIL),
     3, "no srclang"),
    ("Latin-1", doc('<?xml version="1.0" encoding="ISO-8859-1"?>', *HEAD[1:], GOOD_TU, *TAIL),
     1, "ISO-8859-1"),
    ("empty file", "", 1, "no element found"),
    ("a DOCTYPE of its own", doc(XML, "<!DOCTYPE tmx [<!ELEMENT tmx ANY>]>", *HEAD[1:], *TAIL),
     2, "DOCTYPE"),
]


@pytest.mark.parametrize("case, text, line, words", REFUSED, ids=[case[0] for case in REFUSED])
def test_refused(tmp_path, case, text, line, words):
    path = write(tmp_path, text)
    message = refusal(path)
    assert message.startswith(f"{path} (line {line}): ")
    assert words in message


def test_binary_garbage_is_refused(tmp_path):
    path = tmp_path / "photo.tmx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    message = refusal(path)
    assert message.startswith(f"{path} (line 1): ") and "not well-formed" in message


BILLION_LAUGHS = doc(
    '<?xml version="1.0"?>',
    "<!DOCTYPE tmx [",
    '  <!ENTITY lol0 "lol">',
    *(f'  <!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)),
    "]>",
    '<tmx version="1.4"><header srclang="fa"/><body>',
    '<tu><tuv xml:lang="fa"><seg>&lol9;</seg></tuv><tuv xml:lang="en"><seg>&lol9;</seg></tuv></tu>',
    "</body></tmx>",
)


def test_billion_laughs_is_refused_at_once(tmp_path):
    path = write(tmp_path, BILLION_LAUGHS)
    started = time.perf_counter()
    message = refusal(path)
    assert time.perf_counter() - started < 1
    assert message.startswith(f"{path} (line 2): ") and "DOCTYPE" in message


@pytest.mark.parametrize("doctype", [
    '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE tmx [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE tmx SYSTEM "file:///etc/passwd">',
])
def test_external_entities_are_never_read(tmp_path, doctype):
    memory = doc(XML, doctype, *HEAD[1:], '<tu><tuv xml:lang="fa"><seg>&e;</seg></tuv></tu>', *TAIL)
    path = write(tmp_path, memory)
    message = refusal(path)
    assert message.startswith(f"{path} (line 2): ") and "root:" not in message


def test_an_entity_behind_tmx14_dtd_is_refused_not_skipped(tmp_path):
    # With an external DTD named (and never read), expat cannot tell &e; is undefined.
    memory = doc(XML, '<!DOCTYPE tmx SYSTEM "tmx14.dtd">', *HEAD[1:], GOOD_TU,
                 f'<tu><tuv xml:lang="fa"><seg>a&e;b</seg></tuv>{EN}</tu>', *TAIL)
    path = write(tmp_path, memory)
    message = refusal(path)
    assert message.startswith(f"{path} (line 7): ") and "&e;" in message


def test_a_memory_with_nothing_translated_is_refused(tmp_path):
    path = write(tmp_path, tmx(*[f'<tu>{FA}<tuv xml:lang="en"><seg/></tuv></tu>'] * 3))
    message = refusal(path)
    assert message.startswith(
        f"{path}: no translation units in Persian and Arabic, English, French or Urdu")


def test_nothing_is_returned_from_a_memory_that_goes_bad(tmp_path):
    path = write(tmp_path, tmx(*[GOOD_TU] * 100, f"<tu>{EN}{FR}</tu>", *[GOOD_TU] * 5))
    message = refusal(path)
    assert message.startswith(f"{path} (line 105): ")


def test_a_file_too_large_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.tmx"
    with path.open("wb") as stream:
        stream.truncate(MAX_BYTES + 1)  # sparse: no disk is spent on it
    started = time.perf_counter()
    message = refusal(path)
    assert time.perf_counter() - started < 1
    assert message.startswith(f"{path}: ") and "512 MiB" in message


def test_a_missing_file(tmp_path):
    path = tmp_path / "absent.tmx"
    assert refusal(path).startswith(f"{path}: cannot read the file")
