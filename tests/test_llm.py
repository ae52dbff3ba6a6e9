"""The LLM engine against the scripted stand-in server (``tests/llm_standin.py``): every failure a
real tiny model cannot be made to produce on demand, through the CLI. The real server
(``transformers serve``) is in ``test_llm_served.py``."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import polib
import pytest
import yaml

from conftest import REPO, drafted_sample
from llm_standin import StandIn, answer, drop, raw, script, segments, stall, status

REFERENCES = yaml.safe_load((REPO / "sources" / "sample.references.yaml").read_text(encoding="utf-8"))
BY_SOURCE = {r["fa"]: r for r in REFERENCES}
NAMES = {"Arabic": "ar", "English": "en", "French": "fr", "Urdu": "ur"}
KEY = "sk-tarjoman-planted-0123456789abcdef"


def target_of(body) -> str:
    system = body["messages"][0]["content"]
    return next(code for name, code in NAMES.items() if f"into {name}" in system)


def asked(body) -> dict[str, str]:
    """The segments of the request's first question (a second ask repeats the conversation)."""
    return segments({"messages": body["messages"][:2]})


def translations(body, change=None) -> dict[str, str]:
    """The team's reference translation of every segment asked for, as a correct server would answer."""
    lang = target_of(body)
    out = {number: BY_SOURCE[text][lang] for number, text in asked(body).items()}
    return change(out, body) if change else out


def reference(change=None):
    return lambda body, index: answer(json.dumps(translations(body, change), ensure_ascii=False))


def cli(root: Path, *args: str, env: dict | None = None) -> tuple[int, str, str]:
    """``tarjoman`` as a user runs it (a process of its own), exit code and output."""
    run = subprocess.run([sys.executable, "-m", "tarjoman", "--root", str(root), *args], capture_output=True, text=True,
                         env={**os.environ, **(env or {})}, timeout=300)
    return run.returncode, run.stdout, run.stderr


def llm_args(server: StandIn, *more: str) -> list[str]:
    return ["draft", "sample", "--engine", "llm", "--base-url", server.base_url, "--llm-model", "stand-in", *more]


@pytest.fixture
def sample(tmp_path):
    root = tmp_path / "project"
    drafted_sample(root, None)
    return root


def po_entry(root: Path, lang: str, source: str) -> polib.POEntry:
    for path in sorted((root / "outputs" / "sample" / "review").glob(f"*/{lang}.po")):
        for entry in polib.pofile(str(path)):
            if entry.msgid == source:
                return entry
    raise AssertionError(f"{source!r} is in no {lang} review file")


def store_rows(root: Path, lang: str) -> dict[str, tuple[str, str, str]]:
    """Source → (text, state, engine) of every translation in ``lang``, read from the store's file."""
    with sqlite3.connect(root / "tarjoman.sqlite") as db:
        return {source: (text, state, engine) for source, text, state, engine in db.execute(
            "select s.source, t.text, t.state, t.engine from translations t join segments s on s.id = t.segment_id where t.lang = ?", (lang,))}


SENTENCE = "روز ۳۱ شهریور ۱۳۵۹ در خانهٔ پدری‌ام در خرمشهر بودم."


def test_sample_drafted_in_four_languages_from_the_references(sample):
    with StandIn(reference()) as server:
        code, out, err = cli(sample, *llm_args(server, "--concurrency", "3"))
        assert code == 0, err
        bodies = [r.body for r in server.requests]
    assert {target_of(b) for b in bodies} == {"ar", "en", "fr", "ur"}
    for lang in ("ar", "en", "fr", "ur"):
        rows = store_rows(sample, lang)
        assert len(rows) == 83
        entry = po_entry(sample, lang, SENTENCE)
        expected = BY_SOURCE[SENTENCE][lang]
        if lang in ("ar", "ur"):  # finished in the language's digits
            assert entry.msgstr.translate(str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")).replace("\u200f", "") != ""
        else:
            assert entry.msgstr.replace("\u202f", " ").replace("\u00a0", " ") == expected.replace("\u202f", " ")
        assert all(engine.startswith("llm:stand-in@") for text, state, engine in rows.values() if text and engine), lang
    # Each request is a run of consecutive sentences with the paragraphs before it as context.
    assert max(len(asked(b)) for b in bodies) > 3
    later = [json.loads(b["messages"][1]["content"]) for b in bodies if "context" in json.loads(b["messages"][1]["content"])]
    assert later and all(1 <= len(b["context"]) <= 2 for b in later)
    # JSON-schema output asked for, keyed by the request's own numbers.
    schema = bodies[0]["response_format"]["json_schema"]["schema"]
    assert schema["required"] == list(asked(bodies[0])) and schema["additionalProperties"] is False
    assert "server:" in out and "requests" in out


def test_unchanged_book_asks_nothing_and_a_new_setting_redrafts_only_untouched(sample):
    with StandIn(reference()) as server:
        assert cli(sample, *llm_args(server, "--lang", "en"))[0] == 0
        first = len(server.requests)
        code, out, err = cli(sample, *llm_args(server, "--lang", "en"))
        assert code == 0, err
        assert len(server.requests) == first  # every sentence from the draft cache
        # A translator changes one sentence; a draft at another temperature takes everything else again.
        path = next((sample / "outputs" / "sample" / "review").glob("ch01/en.po"))
        catalog = polib.pofile(str(path))
        mine = next(e for e in catalog if e.msgid == SENTENCE)
        mine.msgstr = "On the 31st of Shahrivar 1359 I was at my father's home in Khorramshahr."
        catalog.save(str(path))
        assert cli(sample, "review", "import", "sample", "--lang", "en", "--by", "reviewer")[0] == 0
        code, out, err = cli(sample, *llm_args(server, "--lang", "en", "--temperature", "0.3"))
        assert code == 0, err
        assert len(server.requests) > first
        assert {r.body["temperature"] for r in server.requests[first:]} == {0.3}
    text, state, engine = store_rows(sample, "en")[SENTENCE]
    assert text == mine.msgstr and "temperature" not in engine  # the person's work stays


@pytest.mark.parametrize("case", ["missing", "extra", "wrong-language", "commentary", "malformed", "numbers", "twice"])
def test_a_refused_answer_is_asked_again_with_the_reason(sample, case):
    """First answer wrong in one way; the second request carries the reason; the right answer is kept."""

    def wrong(out, body):
        first = next(iter(out))
        if case == "missing":
            out.pop(first)
        elif case == "extra":
            out["99"] = "An extra sentence nobody asked for."
        elif case == "wrong-language":
            out[first] = "Ce matin-là, nous étions tous dans la maison de mon père, et personne ne parlait de la guerre."
        elif case == "numbers":
            out[first] = out[first].replace("1359", "1358") if "1359" in out[first] else out[first] + " 7"
        return out

    def bad(body, index):
        if case == "commentary":
            return answer("Here is the translation you asked for:\n" + json.dumps(translations(body), ensure_ascii=False))
        if case == "malformed":
            return answer(json.dumps(translations(body), ensure_ascii=False)[:-8])
        if case == "twice":
            out = translations(body)
            number, text = next(iter(out.items()))
            return answer("{" + f'"{number}": "{text}", ' + json.dumps(out, ensure_ascii=False)[1:])
        return answer(json.dumps(translations(body, wrong), ensure_ascii=False))

    with StandIn(script(bad, reference())) as server:
        code, out, err = cli(sample, *llm_args(server, "--lang", "en", "--concurrency", "1"))
        assert code == 0, err
        retry = server.requests[1].body["messages"]
    assert [m["role"] for m in retry] == ["system", "user", "assistant", "user"]
    reason = retry[-1]["content"]
    expected = {"missing": "not answered", "extra": "not asked for", "wrong-language": "reads as French", "commentary": "commentary",
                "malformed": "not valid JSON", "numbers": "(numbers)", "twice": "answered twice"}[case]
    assert expected in reason, reason
    assert "1 answers refused and asked again" in out
    rows = store_rows(sample, "en")
    assert sum(1 for text, state, _ in rows.values() if state == "draft") >= 80
    assert not any("draft:" in e.tcomment + e.comment for e in _entries(sample, "en"))


def _entries(root, lang):
    for path in sorted((root / "outputs" / "sample" / "review").glob(f"*/{lang}.po")):
        yield from polib.pofile(str(path))


def test_refused_twice_is_left_for_a_translator_with_the_reason(sample):
    def wrong_first(body, index):
        out = translations(body)
        first = next(iter(out))
        out[first] = "Sure! " + out[first]
        return answer(json.dumps(out, ensure_ascii=False))

    with StandIn(wrong_first) as server:
        code, out, err = cli(sample, *llm_args(server, "--lang", "en"))
        assert code == 0, err
    assert "left empty for a translator" in err
    left = [e for e in _entries(sample, "en") if not e.msgstr]
    assert left, "the refused sentences are not left empty"
    for entry in left:
        assert "draft: the language model's answer was refused: commentary instead of a translation" in entry.comment + entry.tcomment
    # Everything else went in.
    assert sum(1 for e in _entries(sample, "en") if e.msgstr) >= 70


def test_refused_twice_falls_back_to_the_nmt_model(sample, tiny_models):
    def wrong_language(body, index):
        out = translations(body)
        first = next(iter(out))
        out[first] = BY_SOURCE[asked(body)[first]]["fr"] + " Et puis nous sommes partis tous ensemble vers la ville."
        return answer(json.dumps(out, ensure_ascii=False))

    with StandIn(wrong_language) as server:
        code, out, err = cli(sample, *llm_args(server, "--lang", "en", "--fallback-model", tiny_models["nllb"], "--beams", "1"))
        assert code == 0, err
    assert "drafted by" in err
    rows = store_rows(sample, "en")
    nmt = [(text, engine) for text, state, engine in rows.values() if engine and not engine.startswith("llm:")]
    assert nmt and all(tiny_models["nllb"] in engine for _, engine in nmt)
    fell = [e for e in _entries(sample, "en") if "drafted by" in e.comment + e.tcomment]
    assert len(fell) == len(nmt)


@pytest.mark.parametrize("failure", ["429", "500", "stall", "drop", "not-json"])
def test_server_failures_are_retried_with_bounded_backoff(sample, failure):
    (sample / "tarjoman.yaml").write_text("llm:\n  timeout: 1\n  attempts: 3\n  max_wait: 2\n", encoding="utf-8")
    first = {"429": status(429, {"error": {"message": "slow down"}}, {"Retry-After": "1"}), "500": status(500),
             "stall": stall(20), "drop": drop(), "not-json": raw("<html>bad gateway</html>")}[failure]
    with StandIn(script(first, reference())) as server:
        started = time.monotonic()
        code, out, err = cli(sample, *llm_args(server, "--lang", "en", "--concurrency", "1"))
        assert code == 0, err
        times = [r.at for r in server.requests]
    assert len(times) > 2
    gap = times[1] - times[0]
    if failure == "429":
        assert gap >= 0.95  # Retry-After honoured
    if failure == "stall":
        assert 0.9 <= gap < 5  # the timeout, not the 20 s stall
    assert time.monotonic() - started < 120
    assert sum(1 for text, state, _ in store_rows(sample, "en").values() if text) == 83


def test_a_server_that_never_recovers_leaves_the_sentences_with_the_reason(sample):
    (sample / "tarjoman.yaml").write_text("llm:\n  attempts: 2\n  max_wait: 0.1\n", encoding="utf-8")
    with StandIn(lambda body, index: status(503, headers={"Retry-After": "0"})) as server:
        code, out, err = cli(sample, *llm_args(server, "--lang", "en", "--concurrency", "2"))
        assert code == 0, err
    entry = po_entry(sample, "en", SENTENCE)
    assert entry.msgstr == ""
    assert "did not answer after 2 attempts: 503" in entry.comment + entry.tcomment


def test_a_wrong_key_stops_the_run_in_one_line(sample):
    with StandIn(lambda body, index: status(401, {"error": {"message": "invalid api key"}})) as server:
        code, out, err = cli(sample, *llm_args(server, "--lang", "en"), env={"TARJOMAN_LLM_API_KEY": KEY})
        assert len(server.requests) <= 4  # one per worker, not one per request of the book
    assert code == 1
    assert err.startswith("error: ") and "refused the key (401: invalid api key)" in err and len(err.strip().splitlines()) == 1
    assert KEY not in err + out


def test_the_key_is_sent_and_found_nowhere_else(sample):
    with StandIn(reference()) as server:
        code, out, err = cli(sample, *llm_args(server, "--lang", "en,ar"), env={"TARJOMAN_LLM_API_KEY": KEY, "OPENAI_API_KEY": "sk-other"})
        assert code == 0, err
        assert {r.headers["authorization"] for r in server.requests} == {f"Bearer {KEY}"}
    assert cli(sample, "publish", "sample", "--lang", "en", "--draft", env={"TARJOMAN_LLM_API_KEY": KEY})[0] == 0
    assert KEY not in out + err
    found = [path for path in sample.rglob("*") if path.is_file() and KEY.encode() in path.read_bytes()]
    assert not found
    # and OPENAI_API_KEY is the fallback name
    with StandIn(reference()) as server:
        env = {k: v for k, v in os.environ.items() if k != "TARJOMAN_LLM_API_KEY"}
        subprocess.run([sys.executable, "-m", "tarjoman", "--root", str(sample), *llm_args(server, "--lang", "fr")],
                       env={**env, "OPENAI_API_KEY": "sk-other"}, capture_output=True, check=True, timeout=300)
        assert {r.headers.get("authorization") for r in server.requests} == {"Bearer sk-other"}


def test_estimate_sends_nothing_and_prices_the_book(sample):
    with StandIn(reference()) as server:
        code, out, err = cli(sample, *llm_args(server, "--estimate", "--price-input", "0.15", "--price-output", "0.6"))
        assert code == 0, err
        assert server.requests == []
        assert "nothing was sent" in out and "cost" in out
        total = [line for line in out.splitlines() if line.strip().startswith("total:")][0]
        prompt = int(total.split("requests, ")[1].split(" prompt")[0])
        assert prompt > 1000
        # After drafting English, the estimate for English is nothing.
        assert cli(sample, *llm_args(server, "--lang", "en"))[0] == 0
        code, out, err = cli(sample, *llm_args(server, "--lang", "en", "--estimate"))
        assert "total: 0 requests" in out


def test_settings_from_yaml_are_checked_naming_the_file(sample):
    (sample / "tarjoman.yaml").write_text("llm:\n  concurency: 4\n", encoding="utf-8")
    code, out, err = cli(sample, "draft", "sample", "--engine", "llm", "--base-url", "http://127.0.0.1:9/v1", "--llm-model", "m")
    assert code == 1 and "tarjoman.yaml" in err and "unknown key 'concurency'" in err
    (sample / "tarjoman.yaml").write_text("llm:\n  temperature: hot\n", encoding="utf-8")
    code, out, err = cli(sample, "draft", "sample", "--engine", "llm", "--base-url", "http://127.0.0.1:9/v1", "--llm-model", "m")
    assert code == 1 and "temperature cannot be 'hot'" in err
    (sample / "tarjoman.yaml").unlink()
    code, out, err = cli(sample, "draft", "sample", "--engine", "llm", "--llm-model", "m")
    assert code == 1 and "--base-url" in err
    code, out, err = cli(sample, "draft", "sample", "--engine", "llm", "--base-url", "localhost:11434", "--llm-model", "m")
    assert code == 1 and "not an http(s) URL" in err


def test_book_yaml_names_the_server_and_brief(sample):
    with StandIn(reference()) as server:
        yaml_path = sample / "sources" / "sample.yaml"
        meta = yaml.safe_load(yaml_path.read_text(encoding="utf-8"))
        meta["llm"] = {"base_url": server.base_url, "model": "from-yaml", "concurrency": 2}
        meta["brief"] = {"period": "the Iran–Iraq war, 1980–1982", "register": "plain spoken memoir"}
        yaml_path.write_text(yaml.safe_dump(meta, allow_unicode=True), encoding="utf-8")
        assert cli(sample, "extract", "sources/sample.docx", "--book", "sample")[0] == 0
        code, out, err = cli(sample, "draft", "sample", "--engine", "llm", "--lang", "en")
        assert code == 0, err
        system = server.requests[0].body["messages"][0]["content"]
        assert server.requests[0].body["model"] == "from-yaml"
    assert "Period: the Iran–Iraq war, 1980–1982" in system and "Register: plain spoken memoir" in system
    assert "«روزهای کارون»" in system


def test_glossary_terms_go_with_the_request_and_bind_the_answer(sample):
    import shutil

    from conftest import SAMPLE_GLOSSARY

    (sample / "glossaries").mkdir(exist_ok=True)
    shutil.copy(SAMPLE_GLOSSARY, sample / "glossaries" / "sample.csv")

    def ignore_terms(out, body):
        request = json.loads(body["messages"][1]["content"])
        for number, text in asked(body).items():
            for term, rendering in request.get("glossary", {}).items():
                if term in text and rendering in out[number] and len(rendering) > 3:
                    out[number] = out[number].replace(rendering, "X" * len(rendering))
        return out

    with StandIn(script(reference(ignore_terms), reference())) as server:
        code, out, err = cli(sample, *llm_args(server, "--lang", "en", "--concurrency", "1"))
        assert code == 0, err
        with_terms = [json.loads(r.body["messages"][1]["content"]) for r in server.requests]
    assert any(b.get("glossary") for b in with_terms)
    retries = [r.body["messages"][-1]["content"] for r in server.requests if len(r.body["messages"]) > 2]
    assert retries and all("approved rendering" in reason for reason in retries), retries
    assert " 0 answers refused" not in out


def test_a_killed_run_resumes_without_asking_again(sample):
    """SIGKILL midway; the next run asks only for the sentences whose answers were not committed."""
    answered = []

    def slow(body, index):
        time.sleep(0.4)
        answered.append(index)
        return reference()(body, index)

    with StandIn(slow) as server:
        process = subprocess.Popen([sys.executable, "-m", "tarjoman", "--root", str(sample), *llm_args(server, "--lang", "en,fr", "--concurrency", "2")],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while len(answered) < 6 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        first = len(server.requests)
        with sqlite3.connect(sample / "tarjoman.sqlite") as db:
            cached = {(lang, source) for lang, source in db.execute("select target_lang, source from draft_cache")}
        assert 0 < len(cached) < 166
        code, out, err = cli(sample, *llm_args(server, "--lang", "en,fr", "--concurrency", "2"))
        assert code == 0, err
        again = {(target_of(r.body), text) for r in server.requests[first:] for text in asked(r.body).values()}
    assert not again & cached  # nothing committed before the kill is asked for again
    assert len(again) + len(cached) >= 160
    assert sum(1 for text, _, _ in store_rows(sample, "fr").values() if text) == 83


def test_streamed_answers_are_joined(sample):
    with StandIn(reference()) as server:
        code, out, err = cli(sample, *llm_args(server, "--lang", "ur", "--stream"))
        assert code == 0, err
        assert all(r.body.get("stream") is True for r in server.requests)
    assert po_entry(sample, "ur", SENTENCE).msgstr.startswith("۳۱ شہریور ۱۳۵۹")


def test_a_server_without_json_schema_output_is_asked_without_it(sample):
    def picky(body, index):
        if "response_format" in body:
            return status(400, {"error": {"message": "response_format: json_schema is not supported"}})
        return reference()(body, index)

    with StandIn(picky) as server:
        code, out, err = cli(sample, *llm_args(server, "--lang", "en", "--concurrency", "1"))
        assert code == 0, err
        asked = [("response_format" in r.body) for r in server.requests]
    assert asked[0] is True and not any(asked[1:])  # left out from then on, not asked for every request
    assert sum(1 for text, _, _ in store_rows(sample, "en").values() if text) == 83


# --- the checks, one by one (no server) ----------------------------------------------------------

from tarjoman.engines.llm import Request, check_translation, parse_answer, verify  # noqa: E402
from tarjoman.glossary.terms import TermBinder  # noqa: E402

SOURCE = "روز ۳۱ شهریور ۱۳۵۹ در خانهٔ پدری‌ام در خرمشهر بودم."
GOOD = "On 31 Shahrivar 1359 I was at my father's house in Khorramshahr."


@pytest.mark.parametrize("text, reason", [
    (GOOD, None),
    ("", "no translation"),
    ("Here is the translation: " + GOOD, "commentary"),
    ("Voici la traduction : le 31 Chahrivar 1359, j'étais chez mon père.", "commentary"),
    ("في يوم 31 شهريور 1359 كنت في بيت أبي في خرمشهر.", "not in the English script"),
    (SOURCE, "not in the English script"),
    ("Le 31 Chahrivar 1359, j'étais dans la maison de mon père à Khorramchahr.", "reads as French"),
    ("On 30 Shahrivar 1359 I was at my father's house in Khorramshahr.", "31 lost; 30 added (numbers)"),
    ("On Shahrivar I was at my father's house in Khorramshahr, far away.", "1359, 31 lost (numbers)"),
    ("31, 1359.", "the length of the source"),
])
def test_check_translation(text, reason):
    found = check_translation(SOURCE, text, "en")
    assert (found is None) if reason is None else (found and reason in found), found


def test_check_translation_markers_lines_and_terms():
    assert "note markers" in check_translation("این را گفت* و رفت تا آخر کوچه.", "He said this and walked to the end of the lane.", "en")
    assert check_translation("این را گفت* و رفت تا آخر کوچه.", "He said this* and walked to the end of the lane.", "en") is None
    verse = "ای ایران ای مرز پرگهر\nای خاکت سرچشمهٔ هنر"
    assert "lines" in check_translation(verse, "O Iran, land of jewels, O your soil the source of art", "en")
    assert check_translation(verse, "O Iran, O land full of jewels\nO your soil, the wellspring of art", "en") is None
    binder = TermBinder("en", {"بسیجی": "Basij volunteer"})
    source = "او یک بسیجی جوان از آبادان بود."
    assert "Basij volunteer" in check_translation(source, "He was a young militiaman from Abadan.", "en", terms=binder)
    assert check_translation(source, "He was a young Basij volunteer from Abadan.", "en", terms=binder) is None


def test_parse_answer_shapes():
    assert parse_answer('```json\n{"1": "a"}\n```', ["1"]) == {"1": "a"}
    assert parse_answer('{"translations": {"1": "a", "2": "b"}}', ["1", "2"]) == {"1": "a", "2": "b"}
    request = Request("en", {"1": ("u1", SOURCE), "2": ("u2", "پدرم رادیو را روشن کرد و همه ساکت شدیم.")})
    checked = verify(request, json.dumps({"1": GOOD, "2": "My father turned on the radio and we all fell silent."}))
    assert checked.accepted.keys() == {"1", "2"} and not checked.problems
    checked = verify(request, json.dumps({"1": GOOD, "2": 7}))
    assert checked.accepted.keys() == {"1"} and checked.problems == {"2": "the answer is not text"}
    checked = verify(request, '{"1": "' + GOOD + '", "2": "My father')
    assert not checked.accepted and "not valid JSON" in checked.reason()


def test_the_pipeline_drafts_with_the_language_model(prefect_harness, tmp_path):
    """The Prefect pipeline (and its draft flow) with ``engine="llm"``: a task per language, the
    server named by the flow's ``llm`` parameter, the rest from the YAML; a second run asks nothing."""
    from conftest import approve_every_sentence

    from flows.draft import draft_flow
    from flows.pipeline import pipeline_flow
    from tarjoman.errors import ProjectError

    root = tmp_path / "project"
    (root / "sources").mkdir(parents=True)
    (root / "sources" / "sample.docx").write_bytes((REPO / "sources" / "sample.docx").read_bytes())
    (root / "sources" / "sample.yaml").write_text((REPO / "sources" / "sample.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (root / "tarjoman.yaml").write_text("llm:\n  concurrency: 2\n  unit_tokens: 120\n", encoding="utf-8")
    source = str(root / "sources" / "sample.docx")
    with StandIn(reference()) as server:
        llm = {"base_url": server.base_url, "model": "stand-in"}
        first = pipeline_flow(source, "sample", "ar,en", root=str(root), engine="llm", llm=llm)
        asked_first = len(server.requests)
        assert asked_first > 0 and {target_of(r.body) for r in server.requests} == {"ar", "en"}
        assert first["published"] == [] and set(first["waiting"]) == {"ar", "en"}
        for lang in ("ar", "en"):
            rows = store_rows(root, lang)
            assert len(rows) == 83 and all(engine.startswith("llm:stand-in@") for text, _, engine in rows.values() if text and engine)
        assert po_entry(root, "en", SENTENCE).msgstr.replace("\u202f", " ") == BY_SOURCE[SENTENCE]["en"].replace("\u202f", " ")
        approve_every_sentence(root, "sample", "en")
        second = pipeline_flow(source, "sample", "ar,en", root=str(root), engine="llm", llm=llm)
        assert len(server.requests) == asked_first  # every answer was kept: nothing asked twice
    assert [p.rsplit("/", 1)[-1] for p in second["published"]] == ["sample.en.epub"]
    assert set(second["waiting"]) == {"ar"}
    state = draft_flow("sample", "fr", root=str(root), engine="llm", llm={**llm, "temperature": 5}, return_state=True)
    assert state.is_failed()
    with pytest.raises(ProjectError, match="temperature cannot be 5"):
        state.result()
