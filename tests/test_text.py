import pytest

from tarjoman.text import (
    ZWNJ,
    content_id,
    detect_language,
    estimate_tokens,
    join_parts,
    normalize,
    split_sentences,
)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("پيرمردي كه آمد", "پیرمردی که آمد"),  # Arabic yeh/kaf → Persian
        ("موسى", "موسی"),  # alef maksura
        ("خـــــرمشهر", "خرمشهر"),  # kashida inside a word
        ("ـ کجا می‌روی؟", "ـ کجا می‌روی؟"),  # a kashida typed as a dialogue dash stays
        ("\u200fسلام\u200e دنیا", "سلام دنیا"),  # direction marks
        ("\u202bمتن\u202c", "متن"),  # embeddings
        (f"پدری{ZWNJ}ام", f"پدری{ZWNJ}ام"),  # ZWNJ kept
        (f"x{ZWNJ}{ZWNJ}y", f"x{ZWNJ}y"),  # doubled ZWNJ
        (f"می {ZWNJ}روم", f"می{ZWNJ}روم"),  # ZWNJ beside a space
        ("می روم و نمی خوابم", f"می{ZWNJ}روم و نمی{ZWNJ}خوابم"),  # space for ZWNJ after می/نمی
        ("کتاب ها و دفتر های ما", f"کتاب{ZWNJ}ها و دفتر{ZWNJ}های ما"),  # space for ZWNJ before ها
        ("سلام   دنیا\u00a0!", "سلام دنیا!"),  # spaces, NBSP, space before punctuation
        ("« سلام »", "«سلام»"),
        ("۱۳۵۹/۷/۳۱ و 1980", "۱۳۵۹/۷/۳۱ و 1980"),  # digits as written
        ("\ufef7", "لأ"),  # Arabic presentation form
        ("بیت اول\n  بیت دوم", "بیت اول\nبیت دوم"),  # line breaks kept
    ],
)
def test_normalize(raw, expected):
    assert normalize(raw) == expected


def test_normalize_leaves_arabic_letters_in_arabic_text():
    assert normalize("إليه راجعون في", lang="ar") == "إليه راجعون في"


def test_normalize_without_zwnj_repair_for_verse():
    assert normalize("ساقی می بیار", repair_zwnj=False) == "ساقی می بیار"


@pytest.mark.parametrize(
    "text, lang",
    [
        ("او به خانه رفت و کتاب را برداشت.", "fa"),
        ("او به خانه رفت و كتاب را برداشت.", "fa"),  # Persian typed with Arabic kaf
        ("إِنَّا لِلَّهِ وَإِنَّا إِلَيْهِ رَاجِعُونَ", "ar"),
        ("قال الرجل إن هذا الكتاب في البيت", "ar"),
        ("اليوم تكرر نفس الأمر، لقد رفعته إلى الشجرة مرة أخرى.", "ar"),
        ("یہ ایک کتاب ہے اور میں نے پڑھی", "ur"),
        ("Hello world", ""),
        ("۱۳۵۹", ""),
        ("علی به مسجد رفت.", "fa"),  # «علی» is a name, not the Arabic preposition
    ],
)
def test_detect_language(text, lang):
    assert detect_language(text) == lang


def texts(paragraph, **kw):
    return [paragraph[s.start:s.end] for s in split_sentences(paragraph, **kw)]


@pytest.mark.parametrize(
    "paragraph, expected",
    [
        ("اول رفتم. بعد آمدم.", ["اول رفتم.", "بعد آمدم."]),
        ("کجا؟ خانه! باشد.", ["کجا؟", "خانه!", "باشد."]),
        ("واقعاً؟! بله...", ["واقعاً؟!", "بله..."]),
        ("صبر کردم… آمد.", ["صبر کردم…", "آمد."]),
        ("قیمت ۳.۵ تومان بود. خریدم.", ["قیمت ۳.۵ تومان بود.", "خریدم."]),
        ("در ۱۳۵۹/۷/۳۱ آغاز شد. بعد ادامه یافت.", ["در ۱۳۵۹/۷/۳۱ آغاز شد.", "بعد ادامه یافت."]),
        ("سال ۶۲۲ م. هجرت شد. بعد", ["سال ۶۲۲ م. هجرت شد.", "بعد"]),  # single-letter abbreviation
        ("در ۱۳۰۰ ه.ش. به دنیا آمد. سپس", ["در ۱۳۰۰ ه.ش. به دنیا آمد.", "سپس"]),
        ("Dr. Smith came. He left.", ["Dr. Smith came.", "He left."]),
        ("گفت: «نرو. بمان.» و رفت.", ["گفت: «نرو. بمان.» و رفت."]),  # no cut inside a closed quotation
        ("پرسید: «کجا؟» گفتم: «خانه.»", ["پرسید: «کجا؟»", "گفتم: «خانه.»"]),
        ("(این را بعدها فهمیدم.) راست بود.", ["(این را بعدها فهمیدم.)", "راست بود."]),
        ("- کجا؟\n- خانه.", ["- کجا؟", "- خانه."]),  # dialogue lines
        ("ـ سلام. ـ سلام.", ["ـ سلام.", "ـ سلام."]),
        ("بدون نقطه پایانی", ["بدون نقطه پایانی"]),
    ],
)
def test_split_sentences(paragraph, expected):
    assert texts(paragraph) == expected


def test_long_sentence_is_cut_at_clause_punctuation_and_joins_back():
    clause = "سربازان از کنار رود گذشتند و به سوی شهر رفتند"
    sentence = "، ".join([clause] * 12) + "؛ " + "، ".join([clause] * 12) + "."
    pieces = split_sentences(sentence, max_tokens=60)
    assert len(pieces) > 2
    assert all(estimate_tokens(sentence[p.start:p.end]) <= 60 for p in pieces)
    assert {p.sentence for p in pieces} == {0} and [p.part for p in pieces] == list(range(len(pieces)))
    assert all(sentence[p.start:p.end].endswith(("،", "؛", ".")) for p in pieces)
    assert join_parts([(sentence[p.start:p.end], p.joiner) for p in pieces]) == sentence


def test_prefers_semicolon_to_comma():
    sentence = "الف ب پ ت، ث ج چ ح؛ خ د ذ ر، ز ژ س ش."
    pieces = texts(sentence, max_tokens=14)
    assert pieces[0].endswith("؛")


def test_unpunctuated_run_is_cut_at_spaces_then_by_length():
    words = " ".join(["کلمه"] * 500)
    pieces = split_sentences(words, max_tokens=100)
    assert all(estimate_tokens(words[p.start:p.end]) <= 100 for p in pieces)
    assert join_parts([(words[p.start:p.end], p.joiner) for p in pieces]) == words
    blob = "ا" * 5000
    parts = split_sentences(blob, max_tokens=50, count_tokens=lambda t: len(t) // 10)
    assert "".join(blob[p.start:p.end] for p in parts) == blob


def test_content_id_is_stable_and_text_dependent():
    assert content_id("سلام") == content_id("سلام")
    assert content_id("سلام") != content_id("سلام.")
    assert content_id("سلام").startswith("s") and len(content_id("سلام")) == 11
