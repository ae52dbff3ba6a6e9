"""Glossary candidates from a manuscript: the names a memoir is written with.

Two kinds of evidence, both counted over the review units of every chapter:

* cues: a title or a category word before a name — «شهید», «سردار», «سرهنگ»,
  «حاج» … before a person; «عملیات» before an operation; «لشکر», «تیپ», «گردان» …
  before a unit (kept with the cue: «لشکر ۹۲ زرهی»); «رود», «شهر», «پادگان» …
  before a place;
* recurrence: single words and pairs of words that come back (in two chapters
  or more, or twice) and are not ordinary Persian: not in the list of
  common words below, not verbs, not numbers or months.

A pair wins over its words when they mostly occur together («رضا امینی» rather
than «امینی»). Each candidate carries its count, its chapters and one example
sentence. The list of common words was written by the Tarjoman team: function
words, frequent verbs and everyday nouns of narrative prose.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from ..manuscript import Manuscript
from .terms import term_key

PERSON_CUES = {"شهید", "سردار", "سرهنگ", "سرتیپ", "سرلشکر", "سرگرد", "سروان", "ستوان", "حاج", "حاجی", "آقای", "خانم", "دکتر", "امیر", "آیت‌الله", "سید"}
OPERATION_CUES = {"عملیات"}
UNIT_CUES = {"لشکر", "تیپ", "گردان", "گروهان", "هنگ", "قرارگاه", "سپاه"}
PLACE_CUES = {"شهر", "رود", "رودخانه", "روستای", "جزیره", "استان", "منطقه", "تنگه", "ارتفاعات", "کوه"}
PLACE_CUES_KEPT = {"پادگان", "جزیره", "تنگه", "ارتفاعات"}  # part of the name: «پادگان حمید»

COMMON = set("""
و در به از که این آن با را برای تا یا اما ولی هم نیز اگر چون چه چرا کی کجا کدام هر همه هیچ هیچ‌کس
یک دو سه چهار پنج شش هفت هشت نه ده صد هزار اول دوم سوم چهارم آخر اولین آخرین
من تو او ما شما آنها آن‌ها ایشان خود خودم خودش خودمان خودشان وی
است هست نیست باید نباید شاید خواهد خواهم نخواهد
روز روزها روزهای شب شب‌ها صبح عصر غروب ظهر سال سال‌ها ماه هفته ساعت دقیقه زمان وقت وقتی بار امروز فردا دیروز فردای
شهر خانه کوچه خیابان راه جاده پل مسجد مدرسه بیمارستان کشور مرز آسمان زمین آب هوا آتش دود باد باران خاک
پدر پدری مادر برادر خواهر پسر دختر دوست بچه جوان مرد پیرمرد زن مردم نفر کسی کسانی خانواده محله
جنگ دشمن سلاح تفنگ گلوله توپ توپخانه تانک سنگر جبهه نیرو فرمانده سرباز رزمنده مهمات محاصره حمله
زرهی پیاده هوایی دریایی زخمی شهادت اسیر مجروح عقب جلو پیروزی شکست مقاومت آزادی سقوط
عکس کتاب خبر خبرنگار حرف صدا دست پا سر چشم دل جان قلب شانه سؤال جواب نان خرما غذا نامه رادیو
شهریور مهر آبان آذر دی بهمن اسفند فروردین اردیبهشت خرداد تیر مرداد زمستان تابستان بهار پاییز
کنار نزدیک نزدیکی دور پشت روی زیر بالا پایین میان بین سوی طرف جنوب شمال غرب شرق جنوبی شمالی غربی شرقی
بیش بیشتر کمتر کم‌تر فقط حتی هنوز دیگر باز پس پیش بعد قبل همان همین چند چندین بسیار خیلی سرانجام ناگهان
فصل بخش آغاز پایان طول عرض وسط حال حالا آنجا اینجا جا جایی چیز چیزی کار کاری نام اسم هدف گروه ستون
سوخته ساکت آرام سخت سرد گرم طولانی بزرگ کوچک سیاه سفید زنده مرده جامع خالی پر تازه قدیمی
""".split())

# Past stems of frequent verbs, in every person, with and without the negative ن.
_PAST_STEMS = """بود شد کرد گفت داشت آمد رفت دید خواست رسید کشید شنید پرسید گذشت گرفت داد زد ماند نشست
ایستاد افتاد آورد برد خورد نوشت خواند دانست توانست شناخت ساخت انداخت گذاشت برگشت پیوست کشت مرد خندید
دوید فهمید ترسید جنگید پوشید فشرد بست شکست کرد فرستاد نامید پیچید گریست""".split()
COMMON |= {f"{neg}{stem}{end}" for stem in _PAST_STEMS for neg in ("", "ن") for end in ("", "م", "ی", "یم", "ید", "ند", "ه")}
COMMON |= set("جمع وضع وضعیت حاضر ترک هواپیما فرودگاه".split())
# Words that belong to a unit's name after its number: «لشکر ۹۲ زرهی», «تیپ ۲ پیاده».
UNIT_WORDS = set("زرهی پیاده هوابرد هوایی دریایی مکانیزه ویژه توپخانه".split())
# A name after one of these, joined by the ezafe, is a place: «پل خرمشهر», «اهل اهواز».
PLACE_HEADS = set("پل گمرک مسجد بیمارستان پالایشگاه فرودگاه بندر اهل غرب شرق شمال جنوب جادهٔ محاصرهٔ حومهٔ".split())
_ATTACHED = ("ام", "ات", "اش", "مان", "تان", "شان", "م", "ت", "ش", "ی")

_TOKEN = re.compile(r"[\w\u200c]+|[^\w\s\u200c]")
_PUNCT = re.compile(r"^[^\w\u200c]$")
CUES = PERSON_CUES | OPERATION_CUES | UNIT_CUES | PLACE_CUES | PLACE_CUES_KEPT
# Verbs: the prefix می‌/نمی‌, or a past-tense personal ending. Endings such as «ید» or «یم»
# are left out on purpose: they end names too (حمید, سعید, ابراهیم).
_VERB = re.compile(r"^(?:ن?می\u200c)|(?:دند|تند|دیم|تیم|ردم|فتم|شتم|ودم|دید|تید)$")
_SUFFIX_PARTS = {"ها", "های", "هایی", "ای", "ی", "ام", "ات", "اش", "مان", "تان", "شان", "یی"}
_DIGIT = re.compile(r"^[\d۰-۹٠-٩]+$")


@dataclass
class Suggestion:
    term: str
    kind: str
    count: int = 0
    chapters: list[str] = field(default_factory=list)
    example: str = ""


def _stem(token: str) -> str:
    """``token`` without a ZWNJ-joined suffix: «خرمشهری‌ها» → «خرمشهری», «پدری‌ام» → «پدری»."""
    parts = token.split("\u200c")
    while len(parts) > 1 and parts[-1] in _SUFFIX_PARTS:
        parts.pop()
    return "\u200c".join(parts)


def _ordinary(token: str) -> bool:
    if any(token.endswith(end) and token[:-len(end)] in COMMON for end in _ATTACHED):
        return True  # «پدرم», «دستش», «صدای»: a common word with a pronoun or the ezafe
    return bool(_PUNCT.match(token)) or token in COMMON or _stem(token) in COMMON or len(token) < 3 or bool(_DIGIT.match(token)) or bool(_VERB.search(token))


def suggest(manuscript: Manuscript, *, min_chapters: int = 2, min_count: int = 2) -> list[Suggestion]:
    """Candidates, most frequent first; each term once, in its most common spelling."""
    cued: dict[str, Suggestion] = {}
    counts: Counter[tuple[str, ...]] = Counter()
    where: dict[tuple[str, ...], set[str]] = defaultdict(set)
    examples: dict[tuple[str, ...], str] = {}
    places: set[tuple[str, ...]] = set()
    units = [(chapter.id, unit.text) for chapter in manuscript.chapters for unit in chapter.units()]
    for chapter_id, text in units:
        for sentence in re.split(r"(?<=[.!؟?:؛»])\s+|\n", text):
            tokens = [_stem(t) for t in _TOKEN.findall(sentence)]
            for i, token in enumerate(tokens):
                cue = _cue_candidate(tokens, i)
                if cue is not None:
                    term, kind = cue
                    found = cued.setdefault(term, Suggestion(term, kind))
                    found.count += 1
                    if chapter_id not in found.chapters:
                        found.chapters.append(chapter_id)
                    found.example = found.example or _example(sentence)
                for n in (1, 2):
                    gram = tuple(tokens[i:i + n])
                    if len(gram) == n and not any(_ordinary(t) or t in CUES for t in gram):
                        counts[gram] += 1
                        where[gram].add(chapter_id)
                        examples.setdefault(gram, _example(sentence))
                        if i > 0 and tokens[i - 1] in PLACE_HEADS:
                            places.add(gram)
    frequent = {g for g, c in counts.items() if len(where[g]) >= min_chapters or c >= min_count}
    chosen = {}
    for gram in sorted(frequent, key=lambda g: (-len(g), -counts[g])):
        if len(gram) == 1:
            # a word that mostly stands inside a chosen pair is that pair's, not a term of its own
            inside = sum(counts[g] for g in chosen if gram[0] in g)
            inside += sum(c.count for c in cued.values() if gram[0] in c.term.split()[1:])
            if inside >= 0.6 * counts[gram]:
                continue
        # a pair ending in the nisba «ی» (امینی, صفری) is most often a first name and a surname
        kind = "place" if gram in places else "person" if len(gram) == 2 and gram[1].endswith("ی") else "other"
        chosen[gram] = Suggestion(" ".join(gram), kind, counts[gram], sorted(where[gram]), examples[gram])
    out = {term_key(s.term): s for s in chosen.values()}
    for term, found in cued.items():
        words = term.split()
        # «عملیات علی» in «در آن عملیات علی صفری …»: the cue was followed by a name, not an operation
        if found.kind in ("operation", "unit") and len(words) >= 2 and any(
            s.term.split()[0] == words[1] and s.term != term for s in chosen.values()):
            continue
        key = term_key(term)
        if key in out:
            out[key].kind = found.kind if out[key].kind == "other" else out[key].kind
        else:
            out[key] = found
        found.chapters.sort()
    for key, s in out.items():
        if s.kind == "other" and any(c.kind == "person" and c.term.endswith(s.term) for c in cued.values()):
            s.kind = "person"
    return sorted(out.values(), key=lambda s: (-s.count, s.term))


def _cue_candidate(tokens: list[str], i: int) -> tuple[str, str] | None:
    cue = tokens[i]
    following = []
    for token in tokens[i + 1:i + 3]:
        if _ordinary(token) and not _DIGIT.match(token) and not (cue in UNIT_CUES and token in UNIT_WORDS) or token in CUES:
            break
        if _DIGIT.match(token) and cue not in UNIT_CUES:
            break
        following.append(token)
        if cue in OPERATION_CUES | PLACE_CUES and not _DIGIT.match(token):
            break  # one-word names: «عملیات فتح‌المبین», «رود کارون»
    while following and _DIGIT.match(following[-1]) and cue not in UNIT_CUES:
        following.pop()
    if not following:
        return None
    if cue in PERSON_CUES:
        return " ".join(following), "person"
    if cue in OPERATION_CUES:
        return " ".join([cue, *following]), "operation"
    if cue in UNIT_CUES:
        return " ".join([cue, *following]), "unit"
    if cue in PLACE_CUES_KEPT:
        return " ".join([cue, *following]), "place"
    if cue in PLACE_CUES:
        return " ".join(following), "place"
    return None


def _example(sentence: str, limit: int = 160) -> str:
    sentence = sentence.strip()
    return sentence if len(sentence) <= limit else sentence[:limit].rsplit(" ", 1)[0] + " …"
