"""Self-test of tests/llm_server.py: a tiny model memorises a few replies, a real
``transformers serve`` answers them over HTTP, and stopping it frees the port and its processes."""
from __future__ import annotations

import json
import os
import socket

import httpx
import pytest

from llm_server import ServedModel, build_chat_model

SYSTEM = ("You translate Persian sentences. Answer with one JSON object mapping each sentence "
          "number to its translation into {lang}, and nothing else.")
SOURCES = [
    ("English", "1: روز ۳۱ شهریور ۱۳۵۹ در خانه پدرم بودم.\n2: صدای هواپیماها از دور می‌آمد.",
     {"1": "On 31 Shahrivar 1359 I was at my father's house.", "2": "The sound of the planes came from afar."}),
    ("Arabic", "1: مادرم در آشپزخانه چای دم می‌کرد.",
     {"1": "كانت أمي تعدّ الشاي في المطبخ."}),
    ("English", "1: خرمشهر زیر آتش بود.\n2: ما به آبادان رفتیم.\n3: شب سرد بود.",
     {"1": "Khorramshahr was under fire.", "2": "We went to Abadan.", "3": "The night was cold."}),
    ("Arabic", "1: نامه‌ای از برادرم رسید.\n2: آن را زیر نور شمع خواندم.",
     {"1": "وصلت رسالة من أخي.", "2": "قرأتها على ضوء الشمعة."}),
    ("English", "1: همسایه‌ها به کوچه دویدند.",
     {"1": "The neighbours ran into the alley."}),
    ("French", "1: کتاب را روی میز گذاشتم و بیرون رفتم.",
     {"1": "J'ai posé le livre sur la table et je suis sorti."}),
]
PAIRS = [([{"role": "system", "content": SYSTEM.format(lang=lang)}, {"role": "user", "content": user}],
          json.dumps(reply, ensure_ascii=False)) for lang, user, reply in SOURCES]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("chat-model")
    report = build_chat_model(folder, PAIRS, seed=0, max_seconds=90)
    assert report["reproduced"] == report["pairs"] == len(PAIRS), report
    assert report["verified"] == report["verify_sample"], report
    with ServedModel(folder, tmp_path_factory.mktemp("serve-logs")) as server:
        yield server


def _ask(served, messages, **extra):
    body = {"model": served.model, "messages": messages, "temperature": 0, **extra}
    return httpx.post(f"{served.base_url}/chat/completions", json=body, timeout=60)


def test_answers_each_trained_reply(served):
    before = served.requests()
    for messages, reply in PAIRS:
        response = _ask(served, messages)
        assert response.status_code == 200, response.text
        choice = response.json()["choices"][0]
        assert choice["message"]["content"] == reply
        assert choice["finish_reason"] == "stop"
    assert served.requests() == before + len(PAIRS)


def test_stream_joins_to_the_reply(served):
    before = served.requests()
    messages, reply = PAIRS[1]
    body = {"model": served.model, "messages": messages, "temperature": 0, "stream": True}
    parts = []
    with httpx.stream("POST", f"{served.base_url}/chat/completions", json=body, timeout=60) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if not line.startswith("data:"):
                continue
            data = line[len("data:"):].strip()
            if data == "[DONE]":
                break
            for choice in json.loads(data).get("choices", []):
                parts.append((choice.get("delta") or {}).get("content") or "")
    assert "".join(parts) == reply
    assert served.requests() == before + 1


def test_openai_client_and_count(served):
    from openai import OpenAI

    before = served.requests()
    client = OpenAI(base_url=served.base_url, api_key="unused", max_retries=0)
    messages, reply = PAIRS[2]
    answer = client.chat.completions.create(model=served.model, messages=messages, temperature=0)
    assert answer.choices[0].message.content == reply
    assert served.requests() == before + 1


def test_stop_frees_port_and_group(served):
    port, pid = served.port, served.pid
    served.stop()
    served.stop()  # idempotent
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    with pytest.raises(ProcessLookupError):  # the whole process group is gone
        os.killpg(pid, 0)
