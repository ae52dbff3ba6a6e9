"""The desk in a real browser (Debian's Chromium, through chromedriver), as its users work in it."""

from __future__ import annotations

import zipfile

import pytest
from desk_harness import PROPOSED, REPO, DeskServer, logged_in, tarjoman
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tarjoman.store import Store
from tarjoman.store.core import require_book, translations
from tarjoman.store.translations import history

SCREENSHOTS = REPO / "outputs" / "screenshots"


def wait(driver, seconds=20):
    # htmx swaps the element a condition is reading: a stale element is asked again, not a failure
    return WebDriverWait(driver, seconds, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))


def seg(driver, uid):
    return driver.find_element(By.ID, f"seg-{uid}")


def focused_uid(driver) -> str:
    return driver.execute_script("const s = document.activeElement.closest('.seg'); return s ? s.dataset.uid : null;")


def store_text(root, lang, uid):
    with Store.for_root(root) as store, store.read() as session:
        t = translations(session, require_book(session, "sample"), lang).get(uid)
        return (t.text, t.state) if t else None


def open_chapter(driver, server, chapter, lang):
    driver.get(f"{server.url}/books/sample/chapters/{chapter}/{lang}")
    wait(driver).until(lambda d: d.execute_script("return document.activeElement && document.activeElement.matches('textarea.text')"))


def type_into(driver, uid, text):
    field = seg(driver, uid).find_element(By.CSS_SELECTOR, "textarea.text")
    field.click()
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.DELETE)
    field.send_keys(text)
    return field


def test_a_translator_approves_a_sentence_with_the_keyboard_and_it_reaches_status_and_the_book(desk_server, browser):
    root = desk_server.root
    with logged_in(browser, desk_server, "tara") as driver:
        open_chapter(driver, desk_server, "ch01", "ar")
        first = focused_uid(driver)  # the page opens on the first sentence that needs work
        assert first and seg(driver, first).get_attribute("data-state") != "approved"
        field = type_into(driver, first, "كانت الحرب قد بدأت للتو.")
        field.send_keys(Keys.CONTROL, Keys.ENTER)
        wait(driver).until(lambda d: seg(d, first).get_attribute("data-state") == "approved")
        wait(driver).until(lambda d: focused_uid(d) not in (None, first))  # on to the next sentence that needs work
        second = focused_uid(driver)
        assert seg(driver, second).get_attribute("data-state") != "approved"
        # Alt+Up goes back, Alt+Down forward.
        driver.switch_to.active_element.send_keys(Keys.ALT, Keys.ARROW_UP)
        wait(driver).until(lambda d: focused_uid(d) != second)
        driver.switch_to.active_element.send_keys(Keys.ALT, Keys.ARROW_DOWN)
        wait(driver).until(lambda d: focused_uid(d) == second)
    assert store_text(root, "ar", first) == ("كانت الحرب قد بدأت للتو.", "approved")
    status = tarjoman(root, "status", "sample", "--json")
    assert status.returncode == 0, status.stderr
    import json

    rows = {(r["chapter"], r["lang"]): r for r in json.loads(status.stdout)}
    assert rows[("ch01", "ar")]["approved"] == 1
    published = tarjoman(root, "publish", "sample", "--lang", "ar", "--draft")  # the rest is still machine drafts
    assert published.returncode == 0, published.stderr
    with zipfile.ZipFile(root / "outputs" / "sample" / "epub" / "sample.ar.epub") as epub:
        text = "".join(epub.read(n).decode("utf-8") for n in epub.namelist() if n.endswith(".xhtml"))
    assert "كانت الحرب قد بدأت للتو." in text


def test_fields_run_right_to_left_in_arabic_and_urdu_and_left_to_right_in_english_and_french(desk_server, browser):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, langs in (("tara", ("ar", "ur")), ("tom", ("en", "fr"))):
        with logged_in(browser, desk_server, name) as driver:
            for lang in langs:
                open_chapter(driver, desk_server, "ch01", lang)
                fields = driver.find_elements(By.CSS_SELECTOR, "textarea.text")
                directions = {driver.execute_script("return getComputedStyle(arguments[0]).direction", f) for f in fields[:20]}
                assert directions == ({"rtl"} if lang in ("ar", "ur") else {"ltr"}), lang
                source = driver.find_element(By.CSS_SELECTOR, ".seg .source")
                assert driver.execute_script("return getComputedStyle(arguments[0]).direction", source) == "rtl"
                if lang in ("ar", "ur"):
                    driver.execute_script("window.scrollTo(0, 0)")
                    driver.save_screenshot(str(SCREENSHOTS / f"desk-chapter-{lang}.png"))
    assert (SCREENSHOTS / "desk-chapter-ar.png").stat().st_size > 10_000
    assert (SCREENSHOTS / "desk-chapter-ur.png").stat().st_size > 10_000


def test_an_editor_approves_a_term_and_the_translators_page_marks_it(desk_server, browser):
    with logged_in(browser, desk_server, "tara") as driver:
        open_chapter(driver, desk_server, "ch01", "ar")
        assert PROPOSED not in [m.text.split("\n")[0] for m in driver.find_elements(By.CSS_SELECTOR, "mark.term")]
    with logged_in(browser, desk_server, "ed") as editor:
        editor.get(desk_server.url + "/books/sample/glossary")
        row = editor.find_element(By.CSS_SELECTOR, f"tbody.term-row[data-term='{PROPOSED}']")
        assert "proposed" in row.get_attribute("class")
        assert "machine drafts" in row.find_element(By.CSS_SELECTOR, ".impact").text
        for lang, text in (("en", "Karun"), ("ar", "نهر كارون"), ("fr", "Karoun"), ("ur", "دریائے کارون")):
            box = row.find_element(By.CSS_SELECTOR, f"input[name='{lang}']")
            box.clear()
            box.send_keys(text)
        row.find_element(By.CSS_SELECTOR, "button.approve-term").click()
        wait(editor).until(lambda d: "status-approved" in d.find_element(By.CSS_SELECTOR, f"tbody.term-row[data-term='{PROPOSED}']").get_attribute("class"))
        assert "ed" in editor.find_element(By.CSS_SELECTOR, f"tbody.term-row[data-term='{PROPOSED}'] .decided").text
    with logged_in(browser, desk_server, "tara") as driver:
        open_chapter(driver, desk_server, "ch01", "ar")
        marks = driver.find_elements(By.CSS_SELECTOR, "mark.term")
        renderings = {m.get_attribute("data-rendering") for m in marks}
        assert "نهر كارون" in renderings


def test_a_translator_is_refused_the_glossary_and_other_languages(desk_server, browser):
    with logged_in(browser, desk_server, "tara") as driver:
        for path in ("/books/sample/glossary", "/books/sample/chapters/ch01/en", "/books/sample/chapters/ch01/fr", "/books/sample/dashboard", "/users"):
            driver.get(desk_server.url + path)
            assert "Not allowed" in driver.find_element(By.TAG_NAME, "h1").text, path
        driver.get(desk_server.url + "/")
        links = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "table.work a")]
        assert links and all(link.endswith(("/ar", "/ur")) for link in links)
        assert not driver.find_elements(By.LINK_TEXT, "Glossary")


def test_two_sessions_on_one_sentence_get_the_conflict_and_lose_nothing(desk_server, browser):
    root = desk_server.root
    with logged_in(browser, desk_server, "tara") as one, logged_in(browser, desk_server, "tara") as two:
        open_chapter(one, desk_server, "ch02", "ur")
        open_chapter(two, desk_server, "ch02", "ur")
        uid = focused_uid(one)
        assert focused_uid(two) == uid
        type_into(one, uid, "پہلا ترجمہ")
        one.switch_to.active_element.send_keys(Keys.CONTROL, Keys.ENTER)
        wait(one).until(lambda d: seg(d, uid).get_attribute("data-state") == "approved")
        type_into(two, uid, "دوسرا ترجمہ")
        two.switch_to.active_element.send_keys(Keys.CONTROL, "s")
        box = wait(two).until(lambda d: seg(d, uid).find_element(By.CSS_SELECTOR, ".conflict"))
        wait(two).until(lambda d: box.is_displayed())
        assert "پہلا ترجمہ" in box.find_element(By.CSS_SELECTOR, ".theirs").text
        assert "دوسرا ترجمہ" in box.find_element(By.CSS_SELECTOR, ".mine").text
        assert store_text(root, "ur", uid) == ("پہلا ترجمہ", "approved")  # nothing overwritten
        # Typing more while the conflict is open saves nothing over the other text.
        two.switch_to.active_element.send_keys(" اور")
        two.switch_to.active_element.send_keys(Keys.CONTROL, "s")
        assert store_text(root, "ur", uid) == ("پہلا ترجمہ", "approved")
        box.find_element(By.CSS_SELECTOR, "button.take-mine").click()
        wait(two).until(lambda d: not seg(d, uid).find_element(By.CSS_SELECTOR, ".conflict").is_displayed())
        # The sentence's history, one click away (fetched by htmx), has both.
        seg(two, uid).find_element(By.CSS_SELECTOR, "details.history summary").click()
        wait(two).until(lambda d: "پہلا ترجمہ" in seg(d, uid).find_element(By.CSS_SELECTOR, ".history-body").text)
        assert "دوسرا ترجمہ" in seg(two, uid).find_element(By.CSS_SELECTOR, ".history-body").text
    assert store_text(root, "ur", uid) == ("دوسرا ترجمہ", "draft")
    with Store.for_root(root) as store:
        texts = [c.new_text for c in history(store, "sample", uid=uid, lang="ur")]
    assert "پہلا ترجمہ" in texts and "دوسرا ترجمہ" in texts  # both people's work is in the history


def test_a_reload_keeps_what_was_being_typed(desk_server, browser):
    root = desk_server.root
    with logged_in(browser, desk_server, "tom") as driver:
        open_chapter(driver, desk_server, "ch03", "fr")
        uid = focused_uid(driver)
        type_into(driver, uid, "Une phrase à moitié revue")
        driver.refresh()  # before the autosave's delay: the page's pagehide sends it
        wait(driver, 30).until(lambda d: store_text(root, "fr", uid) == ("Une phrase à moitié revue", "draft"))
        open_chapter(driver, desk_server, "ch03", "fr")
        field = seg(driver, uid).find_element(By.CSS_SELECTOR, "textarea.text")
        assert field.get_attribute("value") == "Une phrase à moitié revue"
        assert seg(driver, uid).find_element(By.CSS_SELECTOR, ".meta .state").text == "edited"


def test_the_source_and_the_machine_draft_are_one_key_away(desk_server, browser):
    with logged_in(browser, desk_server, "tom") as driver:
        open_chapter(driver, desk_server, "ch02", "en")
        uid = focused_uid(driver)
        field = type_into(driver, uid, "something else")
        field.send_keys(Keys.ALT, "s")
        source = seg(driver, uid).find_element(By.CSS_SELECTOR, ".source").text.strip()
        wait(driver).until(lambda d: field.get_attribute("value") == source)
        field.send_keys(Keys.ALT, "m")
        machine = driver.execute_script("return arguments[0].querySelector('.machine-text').textContent", seg(driver, uid))
        wait(driver).until(lambda d: field.get_attribute("value") == machine)
        assert machine and machine != source


def test_the_api_documentation_renders_without_the_internet(desk_server, browser):
    driver = browser()
    driver.get(desk_server.url + "/docs")
    wait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock"))
    paths = {e.text for e in driver.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
    assert "/api/books/{book}/segments/{uid}/{lang}" in paths and "/api/login" in paths


PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@pytest.fixture
def long_chapter(tmp_path):
    """A manuscript whose one chapter has 600 sentences, a footnote cited in its first paragraph."""
    from docx_builder import ManuscriptBuilder, Note
    from desk_harness import add_users

    root = tmp_path / "long"
    (root / "sources").mkdir(parents=True)
    builder = ManuscriptBuilder(title="کتاب بلند")
    builder.heading("فصل اول: روزهای طولانی")
    for p in range(200):
        n = [str(3 * p + i + 1).translate(PERSIAN_DIGITS) for i in range(3)]
        parts = [f"در روز {n[0]} از خانه بیرون رفتیم. ", f"در روز {n[1]} باران آمد. ", f"در روز {n[2]} برگشتیم."]
        if p == 0:
            parts.insert(1, Note("این پانویس در پایان فصل است."))
        builder.paragraph(parts)
    builder.save(root / "sources" / "long.docx")
    assert tarjoman(root, "extract", str(root / "sources" / "long.docx"), "--book", "long").returncode == 0
    add_users(root, {"tara": ("translator", "ar")})
    with DeskServer(root) as server:
        yield server


def test_a_chapter_of_hundreds_of_sentences_opens_with_its_first_slice_and_loads_the_rest_as_needed(long_chapter, browser):
    server = long_chapter
    with logged_in(browser, server, "tara") as driver:
        driver.get(f"{server.url}/books/long/chapters/ch01/ar")
        wait(driver).until(lambda d: focused_uid(d))
        loaded = driver.find_elements(By.CSS_SELECTOR, ".seg")
        assert 200 <= len(loaded) < 300  # one slice of 600, whole paragraphs
        # Alt+↓ on the last sentence loaded brings the next slice and goes on into it.
        last = loaded[-1].get_attribute("data-uid")
        driver.execute_script("arguments[0].querySelector('textarea').focus()", loaded[-1])
        driver.switch_to.active_element.send_keys(Keys.ALT, Keys.ARROW_DOWN)
        wait(driver).until(lambda d: focused_uid(d) not in (None, last))
        assert len(driver.find_elements(By.CSS_SELECTOR, ".seg")) > len(loaded)
        # The footnote mark in the first paragraph leads to the footnote at the end of the chapter.
        driver.execute_script("window.scrollTo(0, 0)")
        driver.find_element(By.CSS_SELECTOR, "sup.note-ref a").click()
        wait(driver).until(lambda d: "پانویس" in d.execute_script(
            "const s = document.activeElement.closest('.seg'); return s ? s.querySelector('.source').textContent : ''"))
        uids = [e.get_attribute("data-uid") for e in driver.find_elements(By.CSS_SELECTOR, ".seg")]
        assert len(uids) == len(set(uids)) == 602  # the title, 600 sentences and the footnote: each once
        assert not driver.find_elements(By.CSS_SELECTOR, ".more")


def test_a_translator_takes_a_fuzzy_match_from_the_memory_beside_the_draft(desk_server, browser):
    from test_desk import OLD_MAN, _import_memory

    root = desk_server.root
    remembered = "رجل عجوز أعطانا خبزاً وماءً."
    _import_memory(root, (OLD_MAN.replace("خرما", "آب"), "ar", remembered))
    with Store.for_root(root) as store, store.read() as session:
        from tarjoman.store.core import segments

        uid = next(s.uid for s in segments(session, require_book(session, "sample")) if s.source == OLD_MAN)
    with logged_in(browser, desk_server, "tara") as driver:
        open_chapter(driver, desk_server, "ch01", "ar")
        box = seg(driver, uid).find_element(By.CSS_SELECTOR, ".memory")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)  # the matches load as the sentence comes into view
        wait(driver).until(lambda d: box.find_elements(By.CSS_SELECTOR, ".match"))
        assert "%" in box.find_element(By.CSS_SELECTOR, ".score").text
        assert box.find_element(By.CSS_SELECTOR, ".match-source del").text == "آب"
        assert box.find_element(By.CSS_SELECTOR, ".match-source ins").text == "خرما"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SCREENSHOTS / "desk-memory-ar.png"))
        box.find_element(By.CSS_SELECTOR, "button.use-match").click()
        field = seg(driver, uid).find_element(By.CSS_SELECTOR, "textarea.text")
        assert field.get_attribute("value") == remembered
        field.send_keys(Keys.CONTROL, Keys.ENTER)
        wait(driver).until(lambda d: seg(d, uid).get_attribute("data-state") == "approved")
    assert store_text(root, "ar", uid) == (remembered, "approved")
