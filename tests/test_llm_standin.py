"""The scripted stand-in chat-completions server (tests/llm_standin.py) answers as it is told."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from llm_standin import StandIn, answer, drop, raw, script, segments, stall, status

CHAT = [{"role": "system", "content": "Translate."}, {"role": "user", "content": "سلام"}]


def post(server: StandIn, body: dict | None = None, **kwargs) -> httpx.Response:
    return httpx.post(f"{server.base_url}/chat/completions",
                      json=body or {"model": "m", "messages": CHAT}, **kwargs)


def test_answer_not_streamed():
    with StandIn(lambda body, index: answer("مرحبا بالعالم")) as server:
        response = post(server)
    assert response.status_code == 200
    document = response.json()
    assert document["object"] == "chat.completion"
    assert document["model"] == "m" and document["id"] and isinstance(document["created"], int)
    choice = document["choices"][0]
    assert choice == {"index": 0, "message": {"role": "assistant", "content": "مرحبا بالعالم"},
                      "finish_reason": "stop"}
    usage = document["usage"]
    assert usage["prompt_tokens"] >= 1 and usage["completion_tokens"] >= 1
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_answer_token_counts_and_finish_reason():
    reply = answer("x", prompt_tokens=7, completion_tokens=3, finish_reason="length")
    with StandIn(lambda body, index: reply) as server:
        document = post(server).json()
    assert document["usage"] == {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    assert document["choices"][0]["finish_reason"] == "length"


@pytest.mark.parametrize("include_usage", [True, False])
def test_answer_streamed(include_usage):
    content = "مرحبا بالعالم، this is a streamed answer."
    body = {"model": "m", "messages": CHAT, "stream": True}
    if include_usage:
        body["stream_options"] = {"include_usage": True}
    with StandIn(lambda body, index: answer(content)) as server:
        with httpx.stream("POST", f"{server.base_url}/chat/completions", json=body) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = [line for line in response.iter_lines() if line]
    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[len("data: "):]) for line in lines[:-1]]
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    deltas = [c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]]
    assert "".join(deltas) == content
    assert sum(1 for d in deltas if d) >= 3  # several pieces
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finishes[-1] == "stop" and not any(finishes[:-1])
    usages = [c["usage"] for c in chunks if c.get("usage")]
    if include_usage:
        assert len(usages) == 1 and chunks[-1]["choices"] == []
        assert usages[0]["total_tokens"] == usages[0]["prompt_tokens"] + usages[0]["completion_tokens"]
    else:
        assert usages == []


def test_status_429_carries_retry_after():
    reply = status(429, {"error": {"message": "rate limited"}}, {"Retry-After": "1"})
    with StandIn(lambda body, index: reply) as server:
        response = post(server)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
    assert response.json() == {"error": {"message": "rate limited"}}


def test_status_500():
    with StandIn(lambda body, index: status(500)) as server:
        response = post(server)
    assert response.status_code == 500
    assert "error" in response.json()


def test_raw_malformed_body_comes_back_byte_exact():
    text = '{"choices": [{"message": {"content": "نیمه'
    with StandIn(lambda body, index: raw(text)) as server:
        response = post(server)
    assert response.status_code == 200
    assert response.content == text.encode("utf-8")
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_stall_times_out_the_client_and_stop_is_prompt():
    server = StandIn(lambda body, index: stall(30))
    try:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            post(server, timeout=httpx.Timeout(5, read=0.5))
        assert time.monotonic() - started < 3
        # Another request stalls in its handler while the server stops.
        outcome: list = []

        def waiting() -> None:
            try:
                outcome.append(post(server, timeout=10))
            except httpx.HTTPError as error:
                outcome.append(error)

        client = threading.Thread(target=waiting)
        client.start()
        deadline = time.monotonic() + 5
        while len(server.requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(server.requests) == 2
    finally:
        started = time.monotonic()
        server.stop()
        stopped_in = time.monotonic() - started
    assert stopped_in < 2
    client.join(timeout=5)
    assert not client.is_alive()
    assert isinstance(outcome[0], httpx.HTTPError)  # closed without a response
    server.stop()  # idempotent


def test_stall_then_closes_without_response():
    with StandIn(lambda body, index: stall(0.2)) as server:
        with pytest.raises(httpx.RemoteProtocolError):
            post(server, timeout=5)


def test_drop():
    with StandIn(lambda body, index: drop()) as server:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            post(server, timeout=5)


def test_script_plays_in_order_then_repeats_the_last():
    seen = []

    def echo(body, index):
        seen.append(index)
        return answer(f"call {index}")

    with StandIn(script(status(429, headers={"Retry-After": "0"}), answer("first"), echo)) as server:
        with httpx.Client(timeout=5) as client:
            url = f"{server.base_url}/chat/completions"
            responses = [client.post(url, json={"messages": CHAT}) for _ in range(5)]
    assert [r.status_code for r in responses] == [429, 200, 200, 200, 200]
    assert [r.json()["choices"][0]["message"]["content"] for r in responses[1:]] == \
        ["first", "call 2", "call 3", "call 4"]
    assert seen == [2, 3, 4]
    assert [r.index for r in server.requests] == [0, 1, 2, 3, 4]


def test_script_repeats_a_single_reply():
    with StandIn(script(answer("same"))) as server:
        contents = [post(server).json()["choices"][0]["message"]["content"] for _ in range(3)]
    assert contents == ["same"] * 3 and len(server.requests) == 3


def test_segments_from_pure_json_content():
    prompt = json.dumps({"source": "fa", "target": "ar", "segments": {"s1": "سلام", "s2": "خداحافظ"}},
                        ensure_ascii=False)
    body = {"messages": [{"role": "system", "content": '{"segments": {"x": "not this one"}}'},
                         {"role": "user", "content": '{"segments": {"old": "earlier turn"}}'},
                         {"role": "assistant", "content": "{}"},
                         {"role": "user", "content": prompt}]}
    assert segments(body) == {"s1": "سلام", "s2": "خداحافظ"}


def test_segments_from_text_with_embedded_json():
    content = ("Translate each segment from Persian to Arabic. Keep {placeholders} as they are.\n"
               "Answer as JSON.\n\n"
               '{"glossary": {"جان": "روح"}, "segments": {"p1.s1": "جان من", "p1.s2": "{name} آمد"}}\n'
               "Thank you.")
    body = {"messages": [{"role": "user", "content": content}]}
    assert segments(body) == {"p1.s1": "جان من", "p1.s2": "{name} آمد"}


def test_segments_missing_is_a_clear_assertion():
    with pytest.raises(AssertionError, match="segments"):
        segments({"messages": [{"role": "user", "content": 'no JSON {here} {"other": 1}'}]})
    with pytest.raises(AssertionError, match="user message"):
        segments({"messages": [{"role": "system", "content": '{"segments": {}}'}]})


def test_responder_using_segments_end_to_end():
    def translate(body, index):
        return answer(json.dumps({"translations": {k: v[::-1] for k, v in segments(body).items()}}))

    prompt = 'Segments:\n{"segments": {"a": "abc"}}'
    with StandIn(translate) as server:
        response = post(server, {"messages": [{"role": "user", "content": prompt}]})
    content = response.json()["choices"][0]["message"]["content"]
    assert json.loads(content) == {"translations": {"a": "cba"}}


def test_responder_error_is_a_500_and_raised_at_exit():
    with pytest.raises(AssertionError, match="segments"):
        with StandIn(lambda body, index: answer(str(segments(body)))) as server:
            response = post(server)
            assert response.status_code == 500
            assert "stand-in responder failed" in response.json()["error"]["message"]


def test_requests_recorded_with_headers_and_models_and_health():
    with StandIn(lambda body, index: answer("ok")) as server:
        assert server.base_url.startswith("http://127.0.0.1:") and server.base_url.endswith("/v1")
        before = time.monotonic()
        post(server, headers={"Authorization": "Bearer sk-stand-in", "X-Extra": "1"})
        models = httpx.get(f"{server.base_url}/models")
        health = httpx.get(f"http://127.0.0.1:{server.port}/health")
    assert models.json() == {"object": "list", "data": [{"id": "stand-in", "object": "model"}]}
    assert health.status_code == 200
    assert len(server.requests) == 1
    recorded = server.requests[0]
    assert recorded.headers["authorization"] == "Bearer sk-stand-in"
    assert recorded.headers["x-extra"] == "1"
    assert recorded.body == {"model": "m", "messages": CHAT}
    assert before <= recorded.at <= time.monotonic()
