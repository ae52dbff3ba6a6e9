"""What every worker of tests/test_store_concurrency.py shares: its arguments, the log of what it
reported saved, and running the ``tarjoman`` command.

A worker runs until ``--deadline`` (a wall-clock time, so that a worker the test killed and started
again stops with the others) and may be SIGKILLed at any moment. What it reports saved is one
line in its log, written only after the save returned, then flushed and fsynced: a line is a
promise the test checks against the store afterwards, and a line cut short by a kill is no promise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

BOOK = "sample"


def arguments(*extra: str) -> argparse.Namespace:
    """--root, --logs, --name, --incarnation, --deadline, --seed, and the ``extra`` options (with a value)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--logs", type=Path, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--incarnation", type=int, required=True)
    parser.add_argument("--deadline", type=float, required=True)
    parser.add_argument("--seed", type=int, required=True)
    for option in extra:
        parser.add_argument(option)
    return parser.parse_args()


def rng(args: argparse.Namespace) -> random.Random:
    """The worker's own random choices: the same for the same seed, name and incarnation."""
    return random.Random(f"{args.seed}:{args.name}:{args.incarnation}")


def running(args: argparse.Namespace) -> bool:
    return time.time() < args.deadline


class SavedLog:
    """``<logs>/<name>.<incarnation>.saved``: one tab-separated line per save reported."""

    def __init__(self, args: argparse.Namespace):
        self.path = args.logs / f"{args.name}.{args.incarnation}.saved"

    def report(self, *fields: object) -> None:
        line = "\t".join(str(f) for f in fields)
        assert "\n" not in line, line
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def tarjoman(args: argparse.Namespace, *command: str) -> subprocess.CompletedProcess:
    """Run ``tarjoman --root ROOT COMMAND…`` and append what happened to ``<name>.<incarnation>.runs``
    (one JSON object a line: the command, its exit status, stderr and the end of stdout)."""
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "tarjoman", "--root", str(args.root), *command], capture_output=True, text=True)
    record = {"command": list(command), "rc": result.returncode, "stderr": result.stderr, "stdout": result.stdout[-2000:],
              "seconds": round(time.monotonic() - started, 2)}
    with open(args.logs / f"{args.name}.{args.incarnation}.runs", "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return result
