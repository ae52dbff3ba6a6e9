"""A scripted stand-in for an OpenAI-compatible chat-completions server, for the failures a real
tiny model cannot produce on demand: a missing or extra segment, the wrong language, commentary,
malformed JSON, HTTP 429 with Retry-After, a stalled connection, a 500, a dropped connection.

It is real HTTP on 127.0.0.1 (a free port), so the client's own HTTP code runs. Tests that need a
real model use ``transformers serve``; this is the stand-in for the rest.

    from llm_standin import StandIn, answer, script, segments, stall, status

    def translate(body, index):
        return answer(json.dumps({"translations": {k: "…" for k in segments(body)}}))

    with StandIn(script(status(429, headers={"Retry-After": "1"}), translate)) as server:
        engine = Engine(base_url=server.base_url, ...)
        ...
        assert len(server.requests) == 2

A responder is ``responder(body: dict, index: int) -> Reply`` (a plain ``str`` is taken as
``answer(str)``), called for each POST to a path ending in ``/chat/completions``. An exception in
a responder (an ``assert`` on the request, ``segments()`` not finding any) is answered with a 500,
kept in ``StandIn.errors`` and raised again when the ``with`` block ends.
"""

from __future__ import annotations

import json
import math
import socket
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Union

__all__ = ["StandIn", "Recorded", "Reply", "answer", "status", "stall", "raw", "drop",
           "segments", "script"]


# -- replies ------------------------------------------------------------------------------------

class Reply:
    """One way the stand-in answers a request. Stateless: a reply may be played many times."""

    def send(self, handler: "_Handler", body: dict) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


def _estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _message_text(content: Any) -> str:
    """A message's content as text: a string, or the text parts of a list of content parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content
                       if isinstance(part, dict) and isinstance(part.get("text"), str))
    return str(content)


def _pieces(content: str, wanted: int = 5) -> list[str]:
    """The content in several pieces, split on character (never byte) boundaries."""
    if not content:
        return [""]
    size = max(1, math.ceil(len(content) / wanted))
    return [content[i:i + size] for i in range(0, len(content), size)]


@dataclass(frozen=True)
class Answer(Reply):
    """A normal chat completion; Server-Sent Events when the request asked for ``stream``."""

    content: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = "stop"

    def usage(self, body: dict) -> dict:
        prompt = self.prompt_tokens
        if prompt is None:
            messages = body.get("messages") or []
            prompt = _estimate_tokens("".join(_message_text(m.get("content")) for m in messages
                                              if isinstance(m, dict)))
        completion = self.completion_tokens
        if completion is None:
            completion = _estimate_tokens(self.content)
        return {"prompt_tokens": prompt, "completion_tokens": completion,
                "total_tokens": prompt + completion}

    def send(self, handler: "_Handler", body: dict) -> None:
        ident = f"chatcmpl-standin-{uuid.uuid4().hex[:12]}"
        created = int(time.time())
        model = body.get("model") or "stand-in"
        if body.get("stream"):
            self._stream(handler, body, ident, created, model)
            return
        document = {
            "id": ident, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": self.content},
                         "finish_reason": self.finish_reason}],
            "usage": self.usage(body),
        }
        handler.send_bytes(200, json.dumps(document, ensure_ascii=False).encode("utf-8"),
                           "application/json")

    def _stream(self, handler: "_Handler", body: dict, ident: str, created: int, model: str) -> None:
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        def chunk(choices: list, **extra: Any) -> dict:
            document = {"id": ident, "object": "chat.completion.chunk", "created": created,
                        "model": model, "choices": choices}
            if include_usage:
                document["usage"] = None
            document.update(extra)
            return document

        events = [chunk([{"index": 0, "delta": {"role": "assistant", "content": ""},
                          "finish_reason": None}])]
        events += [chunk([{"index": 0, "delta": {"content": piece}, "finish_reason": None}])
                   for piece in _pieces(self.content)]
        events.append(chunk([{"index": 0, "delta": {}, "finish_reason": self.finish_reason}]))
        if include_usage:
            events.append(chunk([], usage=self.usage(body)))
        handler.start_chunked(200, "text/event-stream")
        for event in events:
            handler.write_chunk(f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode("utf-8"))
        handler.write_chunk(b"data: [DONE]\n\n")
        handler.end_chunked()


@dataclass(frozen=True)
class Status(Reply):
    """An HTTP status with a body (dict as JSON, str as text, None: an OpenAI-style error)."""

    code: int
    body: dict | str | None = None
    headers: dict | None = None

    def send(self, handler: "_Handler", body: dict) -> None:
        payload = self.body
        if payload is None:
            try:
                phrase = HTTPStatus(self.code).phrase
            except ValueError:
                phrase = f"status {self.code}"
            payload = {"error": {"message": phrase, "type": "stand_in_error", "code": self.code}}
        if isinstance(payload, str):
            data, content_type = payload.encode("utf-8"), "text/plain; charset=utf-8"
        else:
            data, content_type = json.dumps(payload, ensure_ascii=False).encode("utf-8"), "application/json"
        handler.send_bytes(self.code, data, content_type, self.headers)


@dataclass(frozen=True)
class Stall(Reply):
    """Accept the request, send nothing for ``seconds`` (cut short by ``StandIn.stop()``), then
    close the connection without a response."""

    seconds: float

    def send(self, handler: "_Handler", body: dict) -> None:
        handler.standin._stopping.wait(self.seconds)
        handler.hang_up()


@dataclass(frozen=True)
class Raw(Reply):
    """Exactly these bytes as the body (for malformed JSON and the like)."""

    text: str | bytes
    status: int = 200
    content_type: str = "application/json"

    def send(self, handler: "_Handler", body: dict) -> None:
        data = self.text.encode("utf-8") if isinstance(self.text, str) else bytes(self.text)
        handler.send_bytes(self.status, data, self.content_type)


@dataclass(frozen=True)
class Drop(Reply):
    """Close the connection at once, with no response."""

    def send(self, handler: "_Handler", body: dict) -> None:
        handler.hang_up()


def answer(content: str, *, prompt_tokens: int | None = None, completion_tokens: int | None = None,
           finish_reason: str | None = "stop") -> Answer:
    """A normal chat completion whose message is ``content`` (streamed when asked)."""
    return Answer(content, prompt_tokens, completion_tokens, finish_reason)


def status(code: int, body: dict | str | None = None, headers: dict | None = None) -> Status:
    """An HTTP status, e.g. ``status(429, {"error": {...}}, {"Retry-After": "1"})``."""
    return Status(code, body, dict(headers) if headers else None)


def stall(seconds: float) -> Stall:
    """Send nothing for ``seconds``, then close the connection without a response."""
    return Stall(seconds)


def raw(text: str | bytes, status: int = 200, content_type: str = "application/json") -> Raw:
    """Answer exactly these bytes."""
    return Raw(text, status, content_type)


def drop() -> Drop:
    """Close the connection at once with no response."""
    return Drop()


Responder = Callable[[dict, int], Union[Reply, str]]


# -- helpers for responders ---------------------------------------------------------------------

def _find_segments(value: Any) -> Any:
    """The ``segments`` of ``value`` or of the first dict within it that has one (top first)."""
    queue = [value]
    while queue:
        item = queue.pop(0)
        if isinstance(item, dict):
            if "segments" in item:
                return item["segments"]
            queue.extend(item.values())
        elif isinstance(item, list):
            queue.extend(item)
    return None


def _as_mapping(found: Any) -> dict[str, str] | None:
    if isinstance(found, dict):
        return {str(k): v for k, v in found.items()}
    if isinstance(found, list) and all(isinstance(x, dict) and "id" in x for x in found):
        # A list of {"id": ..., "text"/"source": ...} objects, should the prompt take that shape.
        mapping = {}
        for x in found:
            text = next((x[k] for k in ("text", "source", "src") if k in x), None)
            if text is None:
                return None
            mapping[str(x["id"])] = text
        return mapping
    return None


def segments(body: dict) -> dict[str, str]:
    """The segments to translate (id → source text): the JSON object with a ``"segments"`` key in
    the last user message's content (all of it JSON, or text with the JSON embedded)."""
    messages = body.get("messages") or []
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    if not users:
        raise AssertionError(f"stand-in: no user message in the request: {json.dumps(body)[:500]}")
    content = _message_text(users[-1].get("content"))
    decoder = json.JSONDecoder()
    i = content.find("{")
    while i != -1:
        try:
            value, end = decoder.raw_decode(content, i)
        except json.JSONDecodeError:
            i = content.find("{", i + 1)
            continue
        found = _as_mapping(_find_segments(value))
        if found is not None:
            return found
        i = content.find("{", end)
    raise AssertionError("stand-in: no JSON object with \"segments\" in the last user message: "
                         f"{content[:500]!r}")


def script(*items: Reply | Responder | str) -> Responder:
    """A responder that plays ``items`` in order (a Reply as is, a responder called with the body
    and the request's index); after the last, the last repeats."""
    if not items:
        raise ValueError("script() needs at least one reply or responder")
    lock = threading.Lock()
    played = [0]

    def responder(body: dict, index: int) -> Reply | str:
        with lock:
            position = min(played[0], len(items) - 1)
            played[0] += 1
        item = items[position]
        if isinstance(item, (Reply, str)):
            return item
        return item(body, index)

    return responder


# -- the server ---------------------------------------------------------------------------------

@dataclass
class Recorded:
    """One chat-completions request as the stand-in received it."""

    body: dict
    headers: dict[str, str]
    at: float  # time.monotonic()
    path: str = ""
    index: int = 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    server_version = "StandIn/1"
    timeout = 60  # an idle kept-alive connection's thread ends after this
    standin: "StandIn"  # set on the per-server subclass

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        self.standin._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.standin._track(self.connection, False)

    # -- writing
    def send_bytes(self, code: int, data: bytes, content_type: str,
                   headers: dict | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def start_chunked(self, code: int, content_type: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

    def write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode("ascii") + data + b"\r\n")
        self.wfile.flush()

    def end_chunked(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def hang_up(self) -> None:
        """Close the connection without (further) response."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _json(self, code: int, document: dict) -> None:
        self.send_bytes(code, json.dumps(document).encode("utf-8"), "application/json")

    # -- routes
    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        if path.endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": "stand-in", "object": "model"}]})
        elif path in ("/health", "/v1/health", ""):
            self._json(200, {"status": "ok"})
        else:
            self._json(404, {"error": {"message": f"stand-in: no route GET {self.path}"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0].rstrip("/")
        if not path.endswith("/chat/completions"):
            self._json(404, {"error": {"message": f"stand-in: no route POST {self.path}"}})
            return
        try:
            body = json.loads(data.decode("utf-8"))
            if not isinstance(body, dict):
                raise ValueError("not a JSON object")
        except (ValueError, UnicodeDecodeError) as error:
            self._json(400, {"error": {"message": f"stand-in: request body is not a JSON object: {error}"}})
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        index = self.standin._record(body, headers, self.path)
        try:
            reply = self.standin.responder(body, index)
            if isinstance(reply, str):
                reply = answer(reply)
            if not isinstance(reply, Reply):
                raise TypeError(f"stand-in responder returned {reply!r}, not a Reply")
        except BaseException as error:  # noqa: BLE001 - reported to the test, answered with a 500
            self.standin.errors.append(error)
            self._json(500, {"error": {"message": "stand-in responder failed: "
                                       + "".join(traceback.format_exception_only(error)).strip()}})
            return
        try:
            reply.send(self, body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class StandIn:
    """A scripted stand-in chat-completions server on 127.0.0.1 (a free port), served in a
    background thread. ``base_url`` is ``http://127.0.0.1:PORT/v1``; ``requests`` the
    chat-completions requests received, in order."""

    def __init__(self, responder: Responder, *, raise_errors: bool = True) -> None:
        self.responder = responder
        self.raise_errors = raise_errors
        self.requests: list[Recorded] = []
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._stopped = False
        self._connections: set[socket.socket] = set()
        handler = type("_StandInHandler", (_Handler,), {"standin": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"stand-in:{self.port}", daemon=True)
        self._thread.start()

    def __enter__(self) -> "StandIn":
        return self

    def __exit__(self, kind, value, tb) -> None:
        self.stop()
        if kind is None and self.raise_errors and self.errors:
            raise self.errors[0]

    def __repr__(self) -> str:
        return f"<StandIn {self.base_url} requests={len(self.requests)}>"

    def _record(self, body: dict, headers: dict, path: str) -> int:
        with self._lock:
            index = len(self.requests)
            self.requests.append(Recorded(body, headers, time.monotonic(), path, index))
            return index

    def _track(self, connection: socket.socket, open_: bool) -> None:
        with self._lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def stop(self) -> None:
        """Stop serving, end stalls and close open connections. Idempotent; does not wait for
        handler threads."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            connections = list(self._connections)
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=2)
