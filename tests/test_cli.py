import json
import shutil
import subprocess
import sys

import click
import pytest
from conftest import DATA, SAMPLE

from tarjoman.cli import cli

SUMMARY_KEYS = {"book", "chapters", "paragraphs", "segments", "footnotes", "images", "tables", "characters", "warnings"}


def run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "tarjoman", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_extract_json_summary(tmp_path):
    result = run("extract", str(SAMPLE), "--book", "sample", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert SUMMARY_KEYS <= summary.keys()
    assert summary["chapters"] == 4 and summary["book"] == "sample"
    assert isinstance(summary["warnings"], list)
    assert (tmp_path / "outputs" / "sample" / "manuscript.json").is_file()


def test_extract_readable_report_and_default_slug(tmp_path):
    shutil.copy(DATA / "footnotes.docx", tmp_path / "My Memoir.docx")
    result = run("--root", str(tmp_path), "extract", str(tmp_path / "My Memoir.docx"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "chapters    1" in result.stdout and "footnotes   2" in result.stdout
    assert (tmp_path / "outputs" / "my-memoir" / "manuscript.json").is_file()


@pytest.mark.parametrize("name", ["corrupt.docx", "encrypted.docx", "old_format.doc", "empty.docx", "nothing-here.docx"])
def test_errors_are_one_line_and_exit_non_zero(tmp_path, name):
    result = run("extract", str(DATA / name), "--book", "bad", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and name in lines[0]
    assert not (tmp_path / "outputs").exists()


def test_failed_reextraction_keeps_the_previous_manifest(tmp_path):
    assert run("extract", str(SAMPLE), "--book", "sample", cwd=tmp_path).returncode == 0
    manifest = tmp_path / "outputs" / "sample" / "manuscript.json"
    before = manifest.read_bytes()
    result = run("extract", str(DATA / "corrupt.docx"), "--book", "sample", cwd=tmp_path)
    assert result.returncode == 1
    assert manifest.read_bytes() == before


def test_bad_book_name_is_refused(tmp_path):
    result = run("extract", str(SAMPLE), "--book", "../../etc", cwd=tmp_path)
    assert result.returncode == 1 and "not allowed" in result.stderr


def commands(group, prefix=()):
    for name, command in group.commands.items():
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from commands(command, prefix + (name,))


@pytest.mark.parametrize("path, command", list(commands(cli)), ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_every_command_has_help(path, command):
    assert command.help and len(command.help) > 20
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"{' '.join(path)} {param.name} has no help text"
