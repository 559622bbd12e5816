"""The prediction service as a client meets it: a real uvicorn process on a free loopback
port, called over HTTP; the OpenAPI schema fuzzed with schemathesis; Prometheus /metrics."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from .browser import drawn_pixels, screenshot
from .helpers import BIN, predict_file, run
from .s3_server import free_port

pytestmark = pytest.mark.pipeline

PENGUIN = {
    "bill_length_mm": 39.1,
    "bill_depth_mm": 18.7,
    "flipper_length_mm": 181,
    "body_mass_g": 3750.0,
    "island": "Torgersen",
    "sex": "male",
}


@pytest.fixture(scope="module")
def service(repo):
    run(repo, "dvc", "repro")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": "src", "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "reprolab.serve.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=repo,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(f"{url}/health", timeout=1)
            break
        except httpx.TransportError:
            if server.poll() is not None:
                pytest.fail(f"uvicorn exited: {server.stderr.read()}")
            time.sleep(0.1)
    yield url
    server.terminate()
    server.wait(timeout=10)


def test_health_metadata_and_docs(service):
    assert httpx.get(f"{service}/health").json() == {"status": "ok"}
    meta = httpx.get(f"{service}/metadata").json()
    assert meta["model"]["task"] == "classification" and meta["model"]["target"] == "species"
    assert [f["name"] for f in meta["input_schema"]["features"]][-2:] == ["island", "sex"]
    assert meta["metrics"]["balanced_accuracy"] > 0.9
    assert len(meta["data"]["version_md5"]) == 32
    assert len(meta["git_revision"]) == 40
    assert "/predict" in httpx.get(f"{service}/openapi.json").json()["paths"]
    assert httpx.get(f"{service}/docs").status_code == 200


def test_api_docs_draw_offline_from_installed_assets(service, tmp_path):
    page = httpx.get(f"{service}/docs").text
    assert "cdn.jsdelivr" not in page and "https://" not in page
    for asset in re.findall(r'(?:src|href)="(/[^"]+)"', page):
        assert httpx.get(f"{service}{asset}").status_code == 200, asset
    drawn = drawn_pixels(screenshot(f"{service}/docs", tmp_path / "docs.png"))
    assert drawn > 20_000, drawn  # Swagger UI drew the operations, not a blank page


def test_predict_a_batch_with_probabilities(service):
    gentoo = {
        **PENGUIN,
        "bill_length_mm": 47.5,
        "bill_depth_mm": 14.2,
        "flipper_length_mm": 217,
        "body_mass_g": 5200.0,
        "island": "Biscoe",
    }
    unknown = {**PENGUIN, "island": "Atlantis", "sex": None}  # unseen category, missing value
    response = httpx.post(f"{service}/predict", json={"records": [PENGUIN, gentoo, unknown]})
    assert response.status_code == 200
    rows = response.json()["predictions"]
    assert [r["prediction"] for r in rows[:2]] == ["Adelie", "Gentoo"]
    assert all(abs(sum(r["probabilities"].values()) - 1) < 1e-9 for r in rows)


@pytest.mark.parametrize(
    ("record", "field", "kind"),
    [
        ({**PENGUIN, "body_mass_g": "heavy"}, "body_mass_g", "float_type"),
        ({**PENGUIN, "beak_colour": "red"}, "beak_colour", "extra_forbidden"),
        ({k: v for k, v in PENGUIN.items() if k != "island"}, "island", "missing"),
        ({**PENGUIN, "island": 3}, "island", "string_type"),
    ],
)
def test_bad_records_get_422_naming_the_field(service, record, field, kind):
    response = httpx.post(f"{service}/predict", json={"records": [record]})
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert any(field in e["loc"] and e["type"] == kind for e in errors), errors


def test_malformed_json_empty_batch_and_oversized_body(service):
    malformed = httpx.post(
        f"{service}/predict", content=b'{"records": [', headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422
    assert malformed.json()["detail"][0]["type"] == "json_invalid"
    assert httpx.post(f"{service}/predict", json={"records": []}).status_code == 422
    big = httpx.post(
        f"{service}/predict", content=b" " * 1_000_001, headers={"content-type": "application/json"}
    )
    assert big.status_code == 413
    assert "serve.max_body_bytes" in big.json()["detail"]


def test_chunked_body_over_the_limit_is_refused_as_it_streams(service):
    def chunks():
        for _ in range(40):
            yield b" " * 100_000  # 4 MB with no Content-Length

    response = httpx.post(
        f"{service}/predict", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert "serve.max_body_bytes" in response.json()["detail"]


@pytest.mark.parametrize("number", ["Infinity", "-Infinity", "NaN", "1e400", "1" + "0" * 400])
def test_numbers_json_cannot_hold_get_422_not_500(service, number):
    body = json.dumps({"records": [PENGUIN]}).replace("39.1", number)
    response = httpx.post(
        f"{service}/predict", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert "bill_length_mm" in response.text


def test_out_of_range_and_null_required_values_are_refused_as_batch_does(service):
    too_heavy = httpx.post(
        f"{service}/predict", json={"records": [{**PENGUIN, "body_mass_g": 1e6}]}
    )
    assert too_heavy.status_code == 422 and "body_mass_g" in too_heavy.text
    no_island = httpx.post(f"{service}/predict", json={"records": [{**PENGUIN, "island": None}]})
    assert no_island.status_code == 422 and "island" in no_island.text


def test_error_body_is_bounded_and_names_record_and_field(service):
    records = [{**PENGUIN, "body_mass_g": "heavy" * 20} for _ in range(1001)]
    response = httpx.post(f"{service}/predict", json={"records": records})
    assert response.status_code == 422
    assert len(response.content) < 10_000  # the request was ~150 KB
    body = response.json()
    assert body["errors"] >= 1 and body["shown"] <= 20
    assert "heavy" not in response.text  # values are not echoed


def test_table_columns_the_model_does_not_use_are_ignored_on_both_paths(service, repo, tmp_path):
    from palmerpenguins import load_penguins

    rows = load_penguins().dropna().head(25)  # with species (target) and year (time column)
    records = json.loads(rows.to_json(orient="records"))
    response = httpx.post(f"{service}/predict", json={"records": records})
    assert response.status_code == 200, response.text
    served = [r["prediction"] for r in response.json()["predictions"]]
    rows.to_csv(tmp_path / "rows.csv", index=False)
    predict_file(repo, tmp_path / "rows.csv", tmp_path / "scored.csv")
    batch = pd.read_csv(tmp_path / "scored.csv")
    assert served == batch["prediction"].tolist()
    served_proba = [r["probabilities"]["Gentoo"] for r in response.json()["predictions"]]
    assert np.allclose(served_proba, batch["proba_Gentoo"])
    # A column that is not the training table's is refused on both paths.
    unknown = httpx.post(f"{service}/predict", json={"records": [{**records[0], "colour": 1}]})
    assert unknown.status_code == 422 and "colour" in unknown.text
    rows.assign(colour=1).to_csv(tmp_path / "unknown.csv", index=False)
    refused = predict_file(repo, tmp_path / "unknown.csv", tmp_path / "x.csv", check=False)
    assert refused.returncode == 1 and "unknown column(s) ['colour']" in refused.stderr


def test_metrics_count_the_requests_of_this_test(service):
    def value(text, line_start):
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith(line_start)
        )

    before = httpx.get(f"{service}/metrics").text
    for _ in range(3):
        httpx.post(f"{service}/predict", json={"records": [PENGUIN]})
    httpx.post(f"{service}/predict", json={"records": [{**PENGUIN, "sex": 1}] * 2})
    after = httpx.get(f"{service}/metrics").text
    ok = 'reprolab_requests_total{endpoint="/predict",status="200"}'
    bad = 'reprolab_requests_total{endpoint="/predict",status="422"}'
    assert value(after, ok) - value(before, ok) == 3
    assert value(after, bad) - value(before, bad) == 1
    adelie = 'reprolab_predictions_total{prediction="Adelie"}'
    assert value(after, adelie) - value(before, adelie) == 3
    assert (
        value(after, "reprolab_rejected_rows_total") - value(before, "reprolab_rejected_rows_total")
        == 2
    )
    assert 'reprolab_request_seconds_bucket{endpoint="/predict"' in after


def test_schemathesis_fuzzing_finds_no_server_error(service, tmp_path):
    # Run in tmp_path: schemathesis writes a cache where it runs.
    schemathesis = Path(sys.executable).parent / "schemathesis"
    result = subprocess.run(
        [
            str(schemathesis),
            "run",
            f"{service}/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            "40",
            "--seed",
            "1",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "No issues found" in result.stdout


def test_a_model_that_is_not_dvc_lock_s_is_refused_at_start(repo):
    """As after `git checkout` without `dvc checkout`: the file on disk is another model."""
    model = repo / "models/model.skops"
    original = model.read_bytes()
    model.write_bytes((repo / "models/preprocessor.skops").read_bytes())
    try:
        for command in (
            ["reprolab.serve.app"],
            ["reprolab.serve.app", "--allow-unlisted-model"],
            ["reprolab.serve.predict", "--input", "x.csv", "--output", "y.csv"],
        ):
            result = run(repo, sys.executable, "-m", *command, check=False)
            assert result.returncode == 1, result.stderr
            assert "models/model.skops: md5 " in result.stderr
            assert "run `dvc checkout`" in result.stderr and "Traceback" not in result.stderr
    finally:
        model.write_bytes(original)
    run(repo, "dvc", "checkout")
    assert "up to date" in run(repo, "dvc", "status").stdout


def test_bad_serve_config_is_one_line_at_start(repo):
    params = repo / "params.yaml"
    original = params.read_text()
    params.write_text(original.replace("max_body_bytes: 1000000", "max_body_bytes: lots"))
    try:
        result = run(repo, sys.executable, "-m", "reprolab.serve.app", check=False)
    finally:
        params.write_text(original)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "serve: error: serve.max_body_bytes: found 'lots'; expected a whole number >= 1"
    )
