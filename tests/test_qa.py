"""Each QA check against a planted defect, and against a clean translation."""

import pytest

from tarjoman.finishing import NBSP, NNBSP
from tarjoman.qa import check_entry, numbers

SOURCE = "در روز ۲۰ اردیبهشت ۱۳۶۱، رضا امینی در نزدیکی پادگان حمید به شهادت رسید."
CLEAN = {
    "en": "On 20 Ordibehesht 1361, Reza Amini was martyred near the Hamid garrison.",
    "fr": "Le 20 ordibehesht 1361, Reza Amini est tombé en martyr près de la garnison Hamid.",
    "ar": "في ٢٠ أرديبهشت ١٣٦١، استشهد رضا أميني قرب ثكنة حميد.",
    "ur": "۲۰ اردیبہشت ۱۳۶۱ کو رضا امینی حمید چھاؤنی کے قریب شہید ہوئے۔",
}


@pytest.mark.parametrize("lang", sorted(CLEAN))
def test_a_clean_translation_has_no_findings(lang):
    assert check_entry(SOURCE, CLEAN[lang], lang) == []


@pytest.mark.parametrize(
    "source, target, lang, check",
    [
        (SOURCE, "", "en", "untranslated"),
        (SOURCE, SOURCE, "en", "untranslated"),
        (SOURCE, "On 20 Ordibehesht 1361, رضا امینی was martyred near the garrison.", "en", "source-script"),
        (SOURCE, "On 20 Ordibehesht 1362, Reza Amini was martyred near the Hamid garrison.", "en", "numbers"),
        (SOURCE, "On Ordibehesht 1361, Reza Amini was martyred near the Hamid garrison.", "en", "numbers"),
        ("رضا امینی به خرمشهر رفت.", "Reza went to Khorramshahr.", "en", "glossary"),
        (SOURCE, "Reza.", "en", "length"),
        (SOURCE, "On 20 Ordibehesht 1361 the the the garrison garrison garrison of Hamid was there.", "en", "repetition"),
        (SOURCE, "On 20 Ordibehesht 1361 Reza died. He was near. The garrison. Was Hamid.", "en", "sentences"),
        (SOURCE, "On 20 Ordibehesht 1361 (Reza Amini was martyred near the Hamid garrison.", "en", "brackets"),
        (SOURCE, "Le 20 ordibehesht 1361, Reza Amini est tombé près de Hamid !", "fr", "punctuation"),
        (SOURCE, "Le 20 ordibehesht 1361, Reza Amini est tombé près de la garnison «Hamid».", "fr", "punctuation"),
        (SOURCE, "في ٢٠ أرديبهشت ١٣٦١, استشهد رضا أميني قرب ثكنة حميد.", "ar", "punctuation"),
        (SOURCE, "۲۰ اردیبہشت ۱۳۶۱ کو رضا امینی حمید چھاؤنی کے قریب شہید ہوئے.", "ur", "punctuation"),
    ],
)
def test_each_check_finds_its_defect(source, target, lang, check):
    glossary = {"رضا امینی": "Reza Amini"}
    found = check_entry(source, target, lang, glossary=glossary)
    assert check in {f.check for f in found}, found


def test_numbers_compare_values_across_digit_scripts():
    assert numbers("سال ۱۳۵۹ و ١٣٦٠ و 1361") == numbers("1359, 1360 and 1361")
    assert numbers("۳٫۵ و ۱٬۰۰۰") == numbers("3.5 and 1,000")


def test_carried_over_text_is_not_untranslated():
    quran = "إِنَّا لِلَّهِ وَإِنَّا إِلَيْهِ رَاجِعُونَ"
    assert check_entry(quran, quran, "ar", carried=True) == []
    assert "untranslated" in {f.check for f in check_entry(quran, quran, "en")}


def test_french_spacing_as_tarjoman_finishes_it_passes():
    text = f"Il a dit{NBSP}: «{NNBSP}Pourquoi{NNBSP}?{NNBSP}»"
    assert not [f for f in check_entry("او گفت: «چرا؟»", text, "fr") if f.check == "punctuation"]
