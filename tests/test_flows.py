import os
import shutil

import pytest
from conftest import DATA, SAMPLE

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@pytest.fixture(scope="module")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness():
        yield


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
