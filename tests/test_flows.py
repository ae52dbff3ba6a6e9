"""Every flow runs for real under Prefect; the pipeline is also driven through its review
pause on a real `prefect server`, and drafting on a two-process Dask cluster."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import polib
import pytest
from conftest import DATA, REPO, SAMPLE, approve_every_sentence


os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@pytest.fixture
def sample_root(tmp_path):
    (tmp_path / "sources").mkdir()
    shutil.copy(SAMPLE, tmp_path / "sources" / "sample.docx")
    shutil.copy(REPO / "sources" / "sample.yaml", tmp_path / "sources" / "sample.yaml")
    return tmp_path


def drafts_of(root, lang="fr"):
    out = {}
    for path in sorted((root / "outputs" / "sample" / "review").glob(f"*/{lang}.po")):
        for entry in polib.pofile(str(path)):
            out[(path.parent.name, entry.msgctxt, entry.msgid)] = entry.msgstr
    return out


def test_extract_flow_runs_for_real(prefect_harness, tmp_path):
    from flows.extract import extract_flow

    shutil.copy(SAMPLE, tmp_path / "sample.docx")
    summary = extract_flow(str(tmp_path / "sample.docx"), book="sample", root=str(tmp_path))
    assert summary["chapters"] == 4
    assert (tmp_path / "outputs" / "sample" / "manuscript.json").is_file()


def test_extract_flow_fails_on_bad_input(prefect_harness, tmp_path):
    from flows.extract import extract_flow
    from tarjoman.errors import ManuscriptError

    state = extract_flow(str(DATA / "corrupt.docx"), book="bad", root=str(tmp_path), return_state=True)
    assert state.is_failed()
    with pytest.raises(ManuscriptError):
        state.result()
    assert not (tmp_path / "outputs").exists()


def test_draft_review_publish_flows(prefect_harness, sample_root, tiny_models):
    from flows.draft import draft_flow
    from flows.extract import extract_flow
    from flows.publish import publish_flow
    from flows.review import review_flow

    root = str(sample_root)
    extract_flow(str(sample_root / "sources" / "sample.docx"), "sample", root)
    reports = draft_flow("sample", "fr,ur", tiny_models["nllb"], "transformers", 1, "native", root)
    assert len(reports) == 2 * 5  # chapter × language tasks
    assert sum(r["counts"]["machine"] for r in reports) > 0
    status = review_flow("sample", root)
    assert {r["lang"] for r in status if r["drafted"]} == {"fr", "ur"}
    approve_every_sentence(sample_root, "sample", "fr")
    paths = publish_flow("sample", "fr", False, False, root)
    assert paths and paths[0].endswith("sample.fr.epub")
    again = draft_flow("sample", "fr", tiny_models["nllb"], "transformers", 1, "native", root)
    assert all(r["model_calls"] == 0 for r in again)  # nothing done twice


def test_pipeline_waits_for_review_then_publishes(prefect_harness, sample_root, tiny_models):
    from flows.pipeline import pipeline_flow

    first = pipeline_flow(str(sample_root / "sources" / "sample.docx"), "sample", "ar,en", tiny_models["nllb"], "transformers", 1, str(sample_root))
    assert first["published"] == [] and set(first["waiting"]) == {"ar", "en"}
    approve_every_sentence(sample_root, "sample", "en")
    second = pipeline_flow(str(sample_root / "sources" / "sample.docx"), "sample", "ar,en", tiny_models["nllb"], "transformers", 1, str(sample_root))
    assert [p.rsplit("/", 1)[-1] for p in second["published"]] == ["sample.en.epub"]
    assert set(second["waiting"]) == {"ar"}


def test_dask_runner_gives_the_same_drafts(prefect_harness, sample_root, tiny_models, tmp_path):
    from flows.draft import dask_runner, draft_flow
    from flows.extract import extract_flow

    other = tmp_path / "other"
    shutil.copytree(sample_root, other)
    for root in (sample_root, other):
        extract_flow(str(root / "sources" / "sample.docx"), "sample", str(root))
    draft_flow("sample", "fr", tiny_models["nllb"], "transformers", 1, "native", str(sample_root))
    on_dask = draft_flow.with_options(task_runner=dask_runner(workers=2))
    reports = on_dask("sample", "fr", tiny_models["nllb"], "transformers", 1, "native", str(other))
    assert len(reports) == 5
    assert drafts_of(other) == drafts_of(sample_root)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


PIPELINE_SCRIPT = """
import sys
from flows.pipeline import pipeline_flow
result = pipeline_flow(sys.argv[1], "sample", "fr", sys.argv[2], "transformers", 1, sys.argv[3], wait_for_review=True, review_timeout=600)
print("RESULT", result)
"""


def test_pipeline_pauses_for_review_on_a_real_server(sample_root, tiny_models, tmp_path):
    """A real `prefect server start` on loopback: the pipeline pauses after drafting, a translator
    approves, `resume_flow_run` hands it the approval, and the books are published."""
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home"), "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_UI_ENABLED": "false"}
    server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pipeline = None
    try:
        def healthy():
            try:
                return urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2).status == 200
            except OSError:
                return False

        wait_for(healthy, 240, "the Prefect server")
        # Output to a file, not a pipe: a pipe nobody reads fills up and blocks the pipeline.
        log = tmp_path / "pipeline.log"
        with open(log, "w") as sink:
            pipeline = subprocess.Popen([sys.executable, "-c", PIPELINE_SCRIPT, str(sample_root / "sources" / "sample.docx"), tiny_models["nllb"], str(sample_root)],
                                        env=env, cwd=REPO, stdout=sink, stderr=subprocess.STDOUT)

        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings({PREFECT_API_URL: env["PREFECT_API_URL"]}):
            def paused_run():
                assert pipeline.poll() is None, "the pipeline ended before pausing:\n" + log.read_text()[-3000:]
                with get_client(sync_client=True) as client:
                    runs = client.read_flow_runs()
                return next((r for r in runs if r.state and r.state.is_paused()), None)

            run = wait_for(paused_run, 300, "the pipeline to pause for review")
            assert pipeline.poll() is None  # still waiting, not finished
            approve_every_sentence(sample_root, "sample", "fr", "Reviewer <r@example.invalid>")
            result = subprocess.run([sys.executable, "-m", "tarjoman", "resume", str(run.id), "--approver", "Editor", "--lang", "fr"],
                                    env=env, capture_output=True, text=True, timeout=60)
            assert result.returncode == 0, result.stderr
            pipeline.wait(timeout=240)
        output = log.read_text()
        assert pipeline.returncode == 0, output[-3000:]
        assert "'approver': 'Editor'" in output
        assert (sample_root / "outputs" / "sample" / "epub" / "sample.fr.epub").is_file()
    finally:
        if pipeline and pipeline.poll() is None:
            pipeline.kill()
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def test_every_deployment_points_at_a_flow():
    import importlib

    import yaml

    config = yaml.safe_load((REPO / "prefect.yaml").read_text())
    names = set()
    for deployment in config["deployments"]:
        module_path, func = deployment["entrypoint"].split(":")
        flow_obj = getattr(importlib.import_module(module_path.removesuffix(".py").replace("/", ".")), func)
        assert hasattr(flow_obj, "fn"), deployment["name"]  # a Prefect flow
        assert set(deployment["parameters"]) <= set(flow_obj.parameters.properties), deployment["name"]
        names.add(deployment["name"])
    assert {"extract", "draft", "review", "publish", "pipeline", "adapt"} <= names
