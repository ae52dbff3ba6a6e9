"""Write the sample memoir, «روزهای کارون», as a real Word file.

The sample was written by the Tarjoman team for the demo and the tests. The
narrator and his comrades are invented; the places, dates and operations are
those of the 1980–1982 battles for Khorramshahr and Abadan. It has Heading 1
chapters and a Heading 2 sub-heading, footnotes, a photograph with a caption,
a couplet of Hafez, a Quranic quotation in Arabic, dialogue lines opening with
a dash, dates and numbers in Persian digits, one paragraph typed on an Arabic
keyboard (ي/ك), and names of people, places, units and operations that recur.

    python sources/make_sample.py sources/sample.docx
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from docx_builder import ManuscriptBuilder, Note, png  # noqa: E402

TITLE = "روزهای کارون"
AUTHOR = "حسن کاظمی"

CHAPTER_1 = [
    "روز ۳۱ شهریور ۱۳۵۹ در خانهٔ پدری‌ام در خرمشهر بودم. صدای هواپیماها ناگهان آسمان شهر را پر کرد. "
    "مادرم از پنجره بیرون را نگاه کرد و گفت: «این صدای رعد نیست.»",
    "پدرم رادیو را روشن کرد و همه ساکت شدیم. گوینده خبر داد که فرودگاه‌های کشور بمباران شده‌اند. "
    "من آن روز هجده سال داشتم و تازه دیپلم گرفته بودم.",
    "دوستم رضا امینی عصر همان روز به در خانه‌مان آمد. رضا گفت که جوان‌های محله در مسجد جامع جمع می‌شوند.",
    "- تو هم می‌آیی؟",
    "- می‌آیم، ولی اول باید با پدرم حرف بزنم.",
    "پدرم چیزی نگفت و فقط دستش را روی شانه‌ام گذاشت.",
    ["شب در مسجد جامع خرمشهر بیش از ۲۰۰ نفر جمع شده بودند. سردار محمود نادری",
     Note("محمود نادری در آن زمان فرمانده سپاه خرمشهر بود."),
     " برای ما از وضعیت مرز گفت. او گفت که ستون‌های زرهی دشمن از مرز شلمچه گذشته‌اند."],
    "ما سلاح نداشتیم و بیشتر بچه‌ها حتی یک بار هم تیراندازی نکرده بودند. با این حال هیچ‌کس حاضر نبود شهر را ترک کند.",
    # Typed on an Arabic keyboard, with a space where ZWNJ belongs: normalisation repairs both.
    "پيرمردي كه كنار رود كارون ماهي مي فروخت، به ما نان و خرما داد.",
    "فردای آن روز با رضا امینی به گمرک خرمشهر رفتیم. بوی باروت و نخل‌های سوخته در هوا پیچیده بود. "
    "آن روزها نمی‌دانستیم که جنگ هشت سال طول خواهد کشید.",
]

CHAPTER_2_A = [
    "مقاومت خرمشهر ۳۴ روز طول کشید. ما در کوچه‌های شهر، خانه به خانه می‌جنگیدیم.",
    "علی صفری از بچه‌های آبادان بود و با قایق از کارون مهمات می‌آورد. هر شب ساعت ۱۰ با چراغ‌های خاموش از رود می‌گذشت.",
    "یک شب پرسیدم: «علی، نمی‌ترسی؟» خندید و گفت: «ترس هست، ولی کارون راه را بلد است.»",
]
CHAPTER_2_B = [
    "در روز ۲۴ مهر ۱۳۵۹ دشمن به نزدیکی پل خرمشهر رسید. رضا امینی با سه نفر دیگر پشت کیسه‌های شن سنگر گرفت. "
    "ما تا غروب پل را نگه داشتیم.",
    "آن شب سردار نادری گفت که باید به آن سوی کارون عقب برویم. شنیدن این حرف برای همه سخت بود.",
]
CAPTION = "عکس ۱: رضا امینی و علی صفری کنار پل خرمشهر، مهر ۱۳۵۹."
CHAPTER_2_C = [
    ["این عکس را یک خبرنگار اهل اهواز گرفت.",
     Note("نام این خبرنگار را هیچ‌وقت نفهمیدم؛ عکس سال‌ها بعد به دستم رسید.")],
    "روز ۴ آبان ۱۳۵۹ خرمشهر سقوط کرد. ما از آن پس شهر را «خونین‌شهر» می‌نامیدیم.",
    "من و رضا به آبادان رفتیم و در محاصرهٔ شهر ماندیم. آبادان نزدیک یک سال در محاصره بود.",
]

CHAPTER_3_A = [
    "زمستان ۱۳۵۹ در آبادان سرد و طولانی بود. پالایشگاه آبادان هر روز زیر آتش توپخانه بود و دود سیاهش از اهواز هم دیده می‌شد.",
    "ما در نخلستان‌های کنار بهمنشیر سنگر داشتیم. شب‌ها رضا امینی برای بچه‌ها شعر می‌خواند. بیتی از حافظ را بیشتر از همه دوست داشت:",
]
COUPLET = ("ای دل صبور باش و مخور غم که عاقبت", "این شام صبح گردد و این شب سحر شود")
CHAPTER_3_B = [
    "در مهر ۱۳۶۰ محاصرهٔ آبادان شکسته شد. پس از آن به لشکر ۹۲ زرهی در اهواز پیوستم.",
    "فرمانده گردان ما مردی آرام و کم‌حرف بود. او می‌گفت: «جنگ را با نقشه می‌برند، نه با فریاد.»",
    ["در فروردین ۱۳۶۱ عملیات فتح‌المبین در غرب دزفول آغاز شد. در آن عملیات علی صفری از ناحیهٔ پا زخمی شد.",
     Note("علی صفری پس از جنگ معلم ریاضی شد و هنوز در آبادان زندگی می‌کند."),
     " او را با آمبولانس به بیمارستان دزفول بردند."],
    "وقتی به دیدنش رفتم، اولین سؤالش این بود: «کی به خرمشهر برمی‌گردیم؟» جوابی نداشتم؛ فقط دستش را فشردم.",
]

CHAPTER_4_A = [
    "عملیات بیت‌المقدس در ۱۰ اردیبهشت ۱۳۶۱ آغاز شد. هدف عملیات، آزادی خرمشهر بود.",
    "ما از کارون گذشتیم و به سوی جادهٔ اهواز–خرمشهر پیش رفتیم. لشکر ۹۲ زرهی از جناح جنوبی حمله کرد. "
    "گرمای اردیبهشت خوزستان از آتش دشمن کم‌تر نبود.",
    ["در روز ۲۰ اردیبهشت، رضا امینی در نزدیکی پادگان حمید به شهادت رسید.",
     Note("پادگان حمید در جنوب غربی اهواز و بر سر راه خرمشهر بود."),
     " پیکرش را خودم به عقب آوردم."],
    "وقتی خبر را به سردار نادری دادم، زیر لب گفت:",
]
QURAN = ["إِنَّا لِلَّهِ وَإِنَّا إِلَيْهِ رَاجِعُونَ", Note("سورهٔ بقره، آیهٔ ۱۵۶.")]
CHAPTER_4_B = [
    "سرانجام در ۳ خرداد ۱۳۶۱ خرمشهر آزاد شد. من با اولین گروه وارد شهر شدم. از خانهٔ پدری‌ام فقط دیوارهای سوخته مانده بود.",
    "کنار مسجد جامع ایستادم و به روزهای شهریور ۱۳۵۹ فکر کردم. از ۲۰۰ نفری که آن شب در مسجد بودیم، کمتر از ۵۰ نفر زنده مانده بودند.",
    "علی صفری با عصا به دیدن شهر آمد. با هم تا کنار کارون رفتیم و مدتی ساکت نشستیم. او گفت: «رضا باید این روز را می‌دید.»",
    "این کتاب را برای رضا امینی و همهٔ کسانی نوشتم که آن روز را ندیدند.",
]


def photograph(width: int = 240, height: int = 150) -> bytes:
    """A small picture of a river bank at dusk: sky, palm trunks, water."""

    def pixel(x: int, y: int) -> tuple[int, int, int]:
        horizon = int(height * 0.62)
        palm = any(abs(x - px) <= 2 and y > horizon - 55 + (x % 7) for px in (40, 95, 180))
        crown = any((x - px) ** 2 + (y - (horizon - 58)) ** 2 < 150 for px in (40, 95, 180))
        if palm or crown:
            return (35, 30, 25)
        if y < horizon:
            t = y / horizon
            return (int(250 - 90 * t), int(170 - 60 * t), int(90 + 60 * t))
        ripple = 12 if (x + 3 * y) % 17 == 0 else 0
        return (60 + ripple, 80 + ripple, 110 + ripple)

    return png(width, height, pixel)


def paragraphs(builder: ManuscriptBuilder, items: list) -> None:
    for item in items:
        builder.paragraph(item)


def build_sample() -> ManuscriptBuilder:
    b = ManuscriptBuilder(title=TITLE, author=AUTHOR)
    b.paragraph(TITLE, style="Title")
    b.paragraph("خاطرات حسن کاظمی از خرمشهر و آبادان، ۱۳۵۹ تا ۱۳۶۱", center=True)
    b.heading("فصل اول: شهریور ۱۳۵۹", 1)
    paragraphs(b, CHAPTER_1)
    b.heading("فصل دوم: سی و چهار روز", 1)
    paragraphs(b, CHAPTER_2_A)
    b.heading("پل خرمشهر", 2)
    paragraphs(b, CHAPTER_2_B)
    b.picture(photograph(), alt="رضا امینی و علی صفری کنار پل خرمشهر")
    b.paragraph(CAPTION, style="Caption", center=True)
    paragraphs(b, CHAPTER_2_C)
    b.heading("فصل سوم: آبادان", 1)
    paragraphs(b, CHAPTER_3_A)
    b.verse(*COUPLET)
    paragraphs(b, CHAPTER_3_B)
    b.heading("فصل چهارم: بازگشت به خرمشهر", 1)
    paragraphs(b, CHAPTER_4_A)
    b.paragraph(QURAN, style="Quote", center=True)
    paragraphs(b, CHAPTER_4_B)
    return b


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).with_name("sample.docx"))
    build_sample().save(target)
    print(f"wrote {target}")
