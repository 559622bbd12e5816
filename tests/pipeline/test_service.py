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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .browser import page_text
from .helpers import BIN, predict_file, run, wait_for_service
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
    # A stalled body is given up on after 2 s here, so that it is tested;
    # params.yaml is put back once the service has read it (package depends on it).
    params = repo / "params.yaml"
    committed = params.read_text()
    # Whatever value conf/ holds (a user may change it): a stall is given up on after 2 s.
    params.write_text(re.sub(r"body_timeout_seconds: [^\n]*", "body_timeout_seconds: 2", committed))
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
    wait_for_service(server, url)
    params.write_text(committed)
    yield url
    server.terminate()
    server.wait(timeout=10)


def test_health_metadata_and_docs(service):
    # The workspace's model: no registered version or stage.
    assert httpx.get(f"{service}/health").json() == {"status": "ok", "version": None, "stage": None}
    meta = httpx.get(f"{service}/metadata").json()
    assert meta["model"]["task"] == "classification" and meta["model"]["target"] == "species"
    assert [f["name"] for f in meta["input_schema"]["features"]][-2:] == ["island", "sex"]
    assert meta["metrics"]["balanced_accuracy"] > 0.9
    assert len(meta["data"]["version_md5"]) == 32
    assert len(meta["git_revision"]) == 40
    assert "/predict" in httpx.get(f"{service}/openapi.json").json()["paths"]
    assert httpx.get(f"{service}/docs").status_code == 200


def test_api_docs_render_the_operations_offline_from_installed_assets(service):
    page = httpx.get(f"{service}/docs").text
    assert "cdn.jsdelivr" not in page and "https://" not in page
    for asset in re.findall(r'(?:src|href)="(/[^"]+)"', page):
        assert httpx.get(f"{service}{asset}").status_code == 200, asset
    # What Swagger UI drew, by its DOM: each operation, not "Unable to render this
    # definition" (Swagger UI 4 on FastAPI's OpenAPI 3.1 drew that page, pixels and all).
    dom = page_text(f"{service}/docs")
    for path in ("/predict", "/health", "/metadata"):
        assert f'data-path="{path}"' in dom, dom[-2000:]
    assert "Unable to render" not in dom and "reprolab prediction service" in dom


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
        ({**PENGUIN, "body_mass_g": "heavy"}, "body_mass_g", "number_type"),
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


def test_schemathesis_with_our_hostile_strategy_finds_no_failure(service, tmp_path):
    """Every schemathesis check, over its own cases and those our strategy
    (schemathesis_hooks.py) makes of them: lone surrogates, huge names, stalled bodies."""
    tally = tmp_path / "hostile.txt"
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.pipeline.schemathesis_hooks",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "HOSTILE_TALLY": str(tally),
    }
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
            "60",
            "--seed",
            "1",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "No issues found" in result.stdout
    sent = tally.read_text().split() if tally.exists() else []
    kinds = set(sent[::2])
    assert kinds == {"surrogate", "huge-name", "stall"}, f"hostile cases sent: {sent}"


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


def _raw(service: str, request: bytes, wait: float = 10) -> tuple[float, bytes]:
    """Send bytes as they are (no client library fixes them up); the answer's head."""
    import socket

    host, port = service.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as conn:
        conn.settimeout(wait)
        started = time.monotonic()
        conn.sendall(request)
        answer = b""
        try:
            while not _complete(answer):
                chunk = conn.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except TimeoutError:
            answer += b"TIMEOUT"
        return time.monotonic() - started, answer


def _complete(answer: bytes) -> bool:
    """A whole HTTP response: its head, and as many body bytes as it declares."""
    head, _, body = answer.partition(b"\r\n\r\n")
    declared = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
    return bool(_) and declared is not None and len(body) >= int(declared.group(1))


def _post(body: bytes, extra: bytes = b"") -> bytes:
    return (
        b"POST /predict HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        + extra
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


@pytest.mark.parametrize("where", ["island", "sex", "species", "year"])
@pytest.mark.parametrize("spelling", [b'"\\ud800"', b'"\xed\xa0\x80"'], ids=["escaped", "raw"])
def test_a_lone_surrogate_is_a_4xx_naming_the_field_or_ignored(service, where, spelling):
    record = json.dumps({**PENGUIN, where: "@"}).encode().replace(b'"@"', spelling)
    _, answer = _raw(service, _post(b'{"records": [' + record + b"]}"))
    status = int(answer.split(b" ", 2)[1])
    if where in ("species", "year"):  # accepted and ignored: never reaches the table
        assert status == 200, answer
    else:
        assert status == 422 and where.encode() in answer and b"surrogate" in answer, answer


def test_a_huge_unknown_field_name_is_echoed_cut_and_one_problem_per_field(service):
    huge = httpx.post(f"{service}/predict", json={"records": [{**PENGUIN, "x" * 900_000: 1}]})
    assert huge.status_code == 422 and len(huge.content) < 1_000
    records = [{**PENGUIN, "bill_length_mm": "abc", "body_mass_g": 1e9}] * 30
    body = httpx.post(f"{service}/predict", json={"records": records}).json()
    fields = [tuple(p["loc"]) for p in body["detail"]]
    assert len(fields) == len(set(fields)) == 20 and body["errors"] == 60  # one per field
    messages = {p["msg"].rsplit(" ", 1)[0] for p in body["detail"]}  # the bound is conf's
    assert messages == {"Input should be a finite", "Input should be less than or equal to"}
    assert not any("constrained" in str(p["loc"]) for p in body["detail"])


def test_a_declared_length_over_the_limit_is_refused_at_once_and_a_stall_given_up(service):
    took, answer = _raw(
        service,
        b"POST /predict HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Content-Length: 999999999999\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 413") and took < 2, (took, answer)
    stalled = (
        b"POST /predict HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"records": ['
    )
    took, answer = _raw(service, stalled, wait=20)
    assert answer.startswith(b"HTTP/1.1 408") and b"serve.body_timeout_seconds" in answer
    assert 1.5 < took < 10


def test_a_refusal_before_the_body_is_read_closes_the_connection(service):
    """Kept open, the unread rest of the body was taken for the next request on that
    connection: a keep-alive client's next request after a 408 hung."""
    import socket

    host, port = service.removeprefix("http://").split(":")
    body = json.dumps({"records": [PENGUIN]}).encode()
    refused = {  # the first request of a keep-alive connection, refused before its end
        "408": _post(body)[: -len(body) // 2],
        "413": _post(b"", b"Content-Length: 999999999999\r\n").replace(
            b"Content-Length: 0\r\n", b""
        ),
        "415": _post(body).replace(b"application/json", b"text/csv"),
    }
    for status, first in refused.items():
        with socket.create_connection((host, int(port))) as conn:
            conn.settimeout(10)
            conn.sendall(first)
            answer = b""
            while chunk := conn.recv(65536):  # ends only when the server closes
                answer += chunk
        head = answer.partition(b"\r\n\r\n")[0].lower()
        assert head.startswith(f"http/1.1 {status}".encode()), answer[:300]
        assert b"connection: close" in head, head


def test_a_body_that_is_not_json_is_415_and_the_contract_declares_every_answer(service):
    wrong = httpx.post(f"{service}/predict", content=b"a,b", headers={"content-type": "text/csv"})
    assert wrong.status_code == 415 and "application/json" in wrong.json()["detail"]
    responses = httpx.get(f"{service}/openapi.json").json()["paths"]["/predict"]["post"][
        "responses"
    ]
    assert responses["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/Predictions"
    )
    for status in ("400", "408", "413", "415", "422", "500", "503"):
        assert "schema" in responses[status]["content"]["application/json"], status


def test_every_answer_is_counted_under_its_route_and_a_client_that_left_is_not_a_400(service):
    def count(text, status):
        line = f'reprolab_requests_total{{endpoint="/predict",status="{status}"}}'
        return sum(float(x.rsplit(" ", 1)[1]) for x in text.splitlines() if x.startswith(line))

    before = httpx.get(f"{service}/metrics").text
    httpx.post(f"{service}/predict", content=b" " * 1_000_001,
               headers={"content-type": "application/json"})  # fmt: skip
    import socket

    host, port = service.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as conn:  # leaves mid-body
        conn.sendall(_post(b'{"records": [' + b" " * 50)[:-10])
        time.sleep(0.3)
    time.sleep(0.5)
    after = httpx.get(f"{service}/metrics").text
    assert count(after, "413") - count(before, "413") == 1  # under /predict, not "unmatched"
    assert count(after, "499") - count(before, "499") == 1
    assert count(after, "400") == count(before, "400")


def test_a_start_up_refusal_under_uvicorn_s_factory_is_one_line(repo):
    params = repo / "params.yaml"
    original = params.read_text()
    params.write_text(original.replace("max_body_bytes: 1000000", "max_body_bytes: lots"))
    try:
        result = run(
            repo, sys.executable, "-m", "uvicorn", "reprolab.serve.app:create_app", "--factory",
            "--port", str(free_port()), check=False,
        )  # fmt: skip
    finally:
        params.write_text(original)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert "serve: error: serve.max_body_bytes: found 'lots'" in result.stderr


def test_a_value_outside_what_training_saw_is_scored_flagged_and_counted(service):
    schema_low, schema_high = 20.0, 80.0  # the penguins' declared contract: refused outside
    observed = httpx.get(f"{service}/openapi.json").status_code  # service up
    assert observed == 200
    before = httpx.get(f"{service}/metrics").text
    odd = {**PENGUIN, "bill_length_mm": 75.0}  # inside the contract, above any penguin seen
    assert schema_low < odd["bill_length_mm"] < schema_high
    answer = httpx.post(f"{service}/predict", json={"records": [odd, PENGUIN]})
    assert answer.status_code == 200, answer.text
    rows = answer.json()["predictions"]
    assert rows[0]["warnings"] == ["bill_length_mm: 75 outside the training range [32.1, 59.6]"]
    assert "warnings" not in rows[1]
    after = httpx.get(f"{service}/metrics").text
    line = 'reprolab_out_of_range_values_total{feature="bill_length_mm"} '
    assert [x for x in after.splitlines() if x.startswith(line)] != [
        x for x in before.splitlines() if x.startswith(line)
    ]


HOSTILE_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["\ud800", "\udfff", "a\ud83d", "x" * 5000, "", " ", "Biscoe\x00"]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.dictionaries(
        st.sampled_from([*PENGUIN, "species", "year", "\ud800", "x" * 300]), HOSTILE_VALUE
    ),
    st.integers(min_value=1, max_value=3),
)
def test_generated_hostile_records_get_a_json_answer_never_a_5xx(service, changes, copies):
    """What schemathesis' generators avoid (lone surrogates, huge names and values,
    nested values where numbers go), generated: a 200 or a JSON 4xx, never a 5xx."""
    record = {**PENGUIN, **changes}
    body = json.dumps({"records": [record] * copies}).encode()  # surrogates as \\ud800
    _, answer = _raw(service, _post(body))
    head, _, payload = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert status in (200, 422), answer[:500]
    json.loads(payload)
