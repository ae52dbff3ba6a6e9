"""Test support: a tiny chat model that has memorised given replies, served by a real
``transformers serve`` (an OpenAI-compatible HTTP server), offline, on CPU.

``build_chat_model(folder, pairs)`` trains (in seconds to minutes) a small Qwen2 causal LM with a
byte-level BPE tokenizer and a ChatML chat template until greedy decoding of each pair's prompt gives
its reply exactly; ``ServedModel(folder, log_dir)`` serves it on 127.0.0.1 and counts the chat
requests it received.

Quirks found (transformers 5.25, uvicorn 0.55, torch 2.13 CPU):

- The module path is ``python -m transformers.cli.transformers serve`` (``.venv/bin/transformers
  serve`` is the same entry point). It needs ``openai`` and ``accelerate`` installed.
- ``AutoTokenizer`` (which the server uses) loads the saved byte-level BPE as a ``Qwen2Tokenizer``
  because config.json says qwen2: it swaps in Qwen2's pre-tokenizer (digits split one by one) and an
  NFC normalizer, so ids differ from the trained ``PreTrainedTokenizerFast``'s. A model trained on
  the latter answered garbage through the server although it reproduced every reply in-process.
  ``build_chat_model`` therefore saves the tokenizer and a config first and encodes the pairs with
  ``AutoTokenizer.from_pretrained(folder)``. A reply that is not NFC cannot round-trip (assertion).
- Memorising cost grows fast with load: 6 short pairs take ~3-10 s; 150 pairs of ~1500-char prompts
  (~400 prompt tokens) and ~200-char replies of random words reproduced only 54/150 after 900 s on
  2 cores (hidden 192, 2 layers, batches of 8192 tokens, lr 3e-3); smaller batches (2048 tokens,
  lr 5e-3) did worse (0/150 at 240 s, loss stuck at the unconditional word entropy).
- Without a ``chat_template`` on the tokenizer every chat request is a 500.
- The server generates with the model folder's ``generation_config`` (``do_sample``, ``eos_token_id``),
  but raises ``max_new_tokens`` to at least 1024; ``"temperature": 0`` in a request forces greedy.
  A model that never emits its end-of-turn token therefore runs 1024 tokens per request, so training
  includes ``<|im_end|>`` after each reply, and ``eos_token_id`` lists it.
- A prompt of ``max_position_embeddings`` tokens or more is refused; the answer is not capped by it.
- The ``model`` field of a request must be exactly the folder path given on the command line (or be
  absent); anything else is a 400 "Server is pinned".
- uvicorn's access log is on (``log_level="info"``) and is written to stdout when the response
  *starts* (before its first byte is sent, streamed or not), as
  ``INFO:     127.0.0.1:54321 - "POST /v1/chat/completions HTTP/1.1" 200``: ``requests()`` counts those
  lines, whatever their status (422s and 400s included). ``--enable-log-requests`` would add a
  "Request <id>: model …" line only for requests that reach generation; it is not used.
- ``GET /health`` answers 200 only once the model is loaded (start-up is a few seconds).
- Streaming sends SSE ``data: {...}`` lines and no ``data: [DONE]`` line; deltas join to the same text.
- Errors are FastAPI-style ``{"detail": …}``; unknown body fields are a 422.
- SIGTERM waits for a generation in progress: ``stop()`` sends SIGTERM to the process group, waits
  5 s, then SIGKILLs it.
- Teacher-forced argmax on right-padded batches (causal attention, no mask needed) is used to check
  memorisation; a logit margin guards against float differences between batched training forwards
  and the server's cached incremental decoding. The result is confirmed by real ``generate`` calls
  on a sample of the pairs at the end.
"""
from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def _train_tokenizer(texts: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts + ["system", "user", "assistant"], trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        clean_up_tokenization_spaces=False,
        model_max_length=1 << 20,
    )
    fast.chat_template = CHATML_TEMPLATE
    return fast


def _encode_pairs(tokenizer, pairs):
    """(prompt ids + reply ids + <|im_end|>, index where the reply starts) per pair."""
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    encoded = []
    for messages, reply in pairs:
        prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
        if isinstance(prompt, dict) or hasattr(prompt, "input_ids"):
            prompt = prompt["input_ids"]
        prompt = list(prompt)
        answer = tokenizer.encode(reply, add_special_tokens=False)
        assert tokenizer.decode(answer, skip_special_tokens=True) == reply, "tokenizer does not round-trip"
        encoded.append((prompt + answer + [end], len(prompt)))
    return encoded


def _batches(encoded, order, max_tokens):
    """Indices grouped by similar length, each group padded to at most ``max_tokens`` tokens."""
    batches, current, longest = [], [], 0
    for i in order:
        n = len(encoded[i][0])
        if current and max(longest, n) * (len(current) + 1) > max_tokens:
            batches.append(current)
            current, longest = [], 0
        current.append(i)
        longest = max(longest, n)
    if current:
        batches.append(current)
    return batches


def _tensors(encoded, batch, pad_id):
    import torch

    width = max(len(encoded[i][0]) for i in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    for row, i in enumerate(batch):
        seq, start = encoded[i]
        ids[row, : len(seq)] = torch.tensor(seq)
        # position t predicts token t+1: labels are shifted here, the loss is computed by hand
        labels[row, start - 1 : len(seq) - 1] = torch.tensor(seq[start:])
    return ids, labels


def _passes(logits, labels, margin):
    """Per row: every labelled position's argmax is its label, by at least ``margin`` in logit."""
    import torch

    mask = labels != -100
    safe = labels.clamp(min=0)
    target = logits.gather(-1, safe.unsqueeze(-1)).squeeze(-1)
    others = logits.scatter(-1, safe.unsqueeze(-1), float("-inf")).amax(-1)
    ok = (target - others > margin) | ~mask
    return ok.all(dim=1), torch.where(mask, target - others, torch.zeros_like(target))


def build_chat_model(folder: Path, pairs: list[tuple[list[dict], str]], *, seed: int = 0,
                     max_seconds: float = 120, hidden: int = 192, layers: int = 2,
                     vocab_size: int = 4000, lr: float = 3e-3, margin: float = 1.0,
                     batch_tokens: int = 8192, verify: int = 8, log=None) -> dict:
    """Train a tiny Qwen2 chat model on ``pairs`` (OpenAI ``messages``, exact reply) until greedy
    decoding reproduces every reply, or ``max_seconds`` pass; save it to ``folder``.

    Returns ``{"pairs", "reproduced", "seconds", "steps", "parameters", "verified"}``: ``reproduced``
    counts pairs whose reply is the argmax at every position by ``margin`` logits (teacher-forced,
    equivalent to greedy decoding); ``verified`` is how many of ``verify`` sampled pairs real
    ``generate`` calls reproduced (a cross-check).
    """
    import torch
    from transformers import AutoTokenizer, GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    started = time.monotonic()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(max(1, min(os.cpu_count() or 1, 8)))

    texts = []
    for messages, reply in pairs:
        texts.extend(m["content"] for m in messages)
        texts.append(reply)
    trained = _train_tokenizer(texts, vocab_size)
    trained.save_pretrained(folder)
    # The server loads the tokenizer with AutoTokenizer, which, seeing a qwen2 config.json, makes a
    # Qwen2Tokenizer: its own pre-tokenizer (digits one by one) and an NFC normalizer. Train on what
    # it will see: write a config first, reload, encode with the reloaded tokenizer.
    Qwen2Config(vocab_size=len(trained)).save_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert len(tokenizer) == len(trained), (len(tokenizer), len(trained))
    encoded = _encode_pairs(tokenizer, pairs)
    pad_id = tokenizer.pad_token_id
    end_id = tokenizer.convert_tokens_to_ids("<|im_end|>")
    longest_prompt = max(start for _, start in encoded)
    longest_reply = max(len(seq) - start for seq, start in encoded)
    context = 2048
    while context < longest_prompt + longest_reply + 1100:  # serve lets answers run to 1024 tokens
        context *= 2

    heads = max(2, hidden // 32)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 3,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=context,
        rope_theta=10000.0,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=end_id,
        pad_token_id=pad_id,
        use_cache=True,
    )
    model = Qwen2ForCausalLM(config)
    model.config._attn_implementation = "sdpa"
    parameters = sum(p.numel() for p in model.parameters())

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.0}, {"params": no_decay, "weight_decay": 0.0}],
        lr=lr, betas=(0.9, 0.98), eps=1e-8,
    )
    warmup = 30
    n = len(encoded)
    by_length = sorted(range(n), key=lambda i: len(encoded[i][0]))
    batches = _batches(encoded, by_length, batch_tokens)
    # a reply is only a few percent of its sequence: batches are sized by tokens, small ones train faster
    steps = 0
    passed = [False] * n
    reproduced = 0

    def evaluate() -> list[bool]:
        model.eval()
        result = [False] * n
        with torch.no_grad():
            for batch in batches:
                ids, labels = _tensors(encoded, batch, pad_id)
                logits = model(input_ids=ids).logits
                ok, _ = _passes(logits, labels, margin)
                for row, i in enumerate(batch):
                    result[i] = bool(ok[row])
        model.train()
        return result

    model.train()
    while time.monotonic() - started < max_seconds:
        order = list(range(len(batches)))
        random.shuffle(order)
        # pairs still failing are trained once more per epoch
        failing = [b for b in order if not all(passed[i] for i in batches[b])]
        for b in order + failing:
            batch = batches[b]
            ids, labels = _tensors(encoded, batch, pad_id)
            logits = model(input_ids=ids).logits
            mask = labels != -100
            loss = torch.nn.functional.cross_entropy(logits[mask], labels[mask])
            with torch.no_grad():
                ok, _ = _passes(logits.detach(), labels, margin)
                for row, i in enumerate(batch):
                    passed[i] = bool(ok[row])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            for group in optimizer.param_groups:
                group["lr"] = lr * min(1.0, (steps + 1) / warmup)
            optimizer.step()
            steps += 1
            if time.monotonic() - started >= max_seconds:
                break
        if log is not None:
            log(f"{time.monotonic() - started:.0f}s step {steps}: {sum(passed)}/{n} pass, loss {loss.item():.3f}")
        if all(passed):
            passed = evaluate()
            if all(passed):
                break
    passed = evaluate()
    reproduced = sum(passed)

    model.generation_config = GenerationConfig(
        do_sample=False,
        max_new_tokens=longest_reply + 64,
        eos_token_id=[end_id, pad_id],
        pad_token_id=pad_id,
        bos_token_id=None,
    )
    model.save_pretrained(folder)  # the tokenizer files were saved before training

    verified = 0
    sample = random.Random(seed).sample(range(n), min(verify, n))
    model.eval()
    with torch.no_grad():
        for i in sample:
            messages, reply = pairs[i]
            seq, start = encoded[i]
            out = model.generate(torch.tensor([seq[:start]]), attention_mask=torch.ones(1, start, dtype=torch.long),
                                 max_new_tokens=len(seq) - start + 8, do_sample=False)
            text = tokenizer.decode(out[0, start:], skip_special_tokens=True)
            verified += text == reply
    return {
        "pairs": n,
        "reproduced": reproduced,
        "seconds": round(time.monotonic() - started, 1),
        "steps": steps,
        "parameters": parameters,
        "verified": verified,
        "verify_sample": len(sample),
    }


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServedModel:
    """A ``transformers serve`` for ``folder`` on 127.0.0.1, in its own process group, logging to
    ``log_dir/serve-PORT.log``. Use as a context manager, or call ``stop()``."""

    ACCESS_LINE = '"POST {path} HTTP/'

    def __init__(self, folder: Path, log_dir: Path, *, continuous_batching: bool = False,
                 timeout: float = 120, port: int | None = None, extra_args: list[str] | None = None):
        self.folder = Path(folder)
        self.model = str(folder)
        self.port = port or _free_port()
        self.host = "127.0.0.1"
        self.base_url = f"http://{self.host}:{self.port}/v1"
        log_dir = Path(log_dir)
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"serve-{self.port}.log"
        command = [sys.executable, "-m", "transformers.cli.transformers", "serve", "--host", self.host,
                   "--port", str(self.port), "--device", "cpu"]
        if continuous_batching:
            command.append("--continuous-batching")
        command += list(extra_args or [])
        command.append(self.model)
        self.command = command
        env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONUNBUFFERED="1")
        self._log = open(self.log_path, "wb")
        started = time.monotonic()
        self._process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        self.pid = self._process.pid
        self._stopped = False
        try:
            self._wait_healthy(timeout)
        except BaseException:
            self.stop()
            raise
        self.start_seconds = round(time.monotonic() - started, 1)

    def _wait_healthy(self, timeout: float) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        url = f"http://{self.host}:{self.port}/health"
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"transformers serve exited with {self._process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"transformers serve not healthy after {timeout} s:\n{self.log_tail()}")
            time.sleep(0.2)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def requests(self, path: str = "/v1/chat/completions") -> int:
        """POST requests to ``path`` the server has answered (or begun to answer), from uvicorn's
        access log, which is written before the response's first byte leaves."""
        needle = self.ACCESS_LINE.format(path=path)
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return 0
        return sum(1 for line in text.splitlines() if needle in line)

    def stop(self) -> None:
        """SIGTERM to the process group, up to 5 s, then SIGKILL; idempotent."""
        if self._stopped:
            return
        self._stopped = True
        try:
            os.killpg(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.pid, signal.SIGKILL)  # whatever of the group is left
        except ProcessLookupError:
            pass
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        # killed members linger a moment (zombies until reaped): wait until the group is gone
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.killpg(self.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        self._log.close()

    def __enter__(self) -> "ServedModel":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __del__(self):
        try:
            self.stop()
        except Exception:
            pass
