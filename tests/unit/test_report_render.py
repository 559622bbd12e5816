import json
import re
from io import BytesIO
from pathlib import Path

from PIL import Image

from reprolab.workflow.gate import ABSENT, MetricDelta, Verdict
from reprolab.workflow.offline_plots import build_template
from reprolab.workflow.plot_images import render_pngs
from reprolab.workflow.report import Comparison, render


def test_report_has_verdict_key_metrics_folded_rest_params_and_images():
    deltas = [
        MetricDelta("balanced_accuracy", 0.95, 0.97, "maximize"),
        MetricDelta("log_loss", 0.2, 0.1, "minimize"),
        MetricDelta("test_rows", 80, 86, None),
    ]
    comparison = Comparison(
        deltas, ["balanced_accuracy", "log_loss"], Verdict(True, "PASS balanced_accuracy: ...")
    )
    text = render(
        "main",
        comparison,
        [("model.C", 1.0, 0.5), ("model.tol", ABSENT, 0.001)],
        [Path("reports/pr_plots/roc.png")],
    )
    assert "**Gate: ✅ PASS balanced_accuracy: ...**" in text
    assert (
        "| **balanced_accuracy** (primary, maximize) | 0.9500 | 0.9700 | +0.0200 | +2.1% | ✅ |"
        in text
    )
    assert "| log_loss | 0.2000 | 0.1000 | -0.1000 | -50.0% | ✅ |" in text
    assert "<details><summary>All other metrics (1)</summary>" in text
    assert "| test_rows | 80 | 86 | +6 | +7.5% | 🔀 |" in text
    assert "| `model.C` | `1.0` | `0.5` |" in text
    assert "| `model.tol` | *(absent)* | `0.001` |" in text
    assert "![roc](pr_plots/roc.png)" in text
    assert "not comparable" not in text


def test_report_on_different_test_sets_warns_first_and_shows_the_shared_rows():
    recorded = [MetricDelta("balanced_accuracy", 0.97, 0.98, "maximize")]
    shared = [MetricDelta("balanced_accuracy", 0.96, 0.95, "maximize")]
    comparison = Comparison(
        recorded,
        ["balanced_accuracy"],
        Verdict(False, "NOT COMPARABLE as recorded: ... FAIL balanced_accuracy: ..."),
        ["the test sets differ (86 vs 120 rows; data version, split or seed changed)"],
        shared,
        "both models scored here on the 64 rows of main's test set",
    )
    text = render("main", comparison, [], [])
    warning = text.index("**The recorded metrics below are not comparable**: the test sets")
    assert warning < text.index("### Metrics on shared rows (what the gate used)")
    assert "Both models scored here on the 64 rows of main's test set:" in text
    assert "| **balanced_accuracy** (primary, maximize) | 0.9600 | 0.9500 |" in text
    assert "### Metrics as recorded (different test sets)" in text


def test_plot_specs_render_to_valid_png(tmp_path, root):
    template = json.loads((root / ".dvc/plots/curves_by_class.json").read_text())
    spec = json.loads(
        json.dumps(template)
        .replace(
            '"<DVC_METRIC_DATA>"',
            json.dumps(
                [
                    {"class": c, "point": i, "fpr": i / 2, "tpr": min(1, i), "rev": r}
                    for c in ("a", "b")
                    for r in ("main", "workspace")
                    for i in range(3)
                ]
            ),
        )
        .replace("<DVC_METRIC_X>", "fpr")
        .replace("<DVC_METRIC_Y>", "tpr")
    )
    paths = render_pngs({"data": {"plots/roc.json": [{"type": "vega", "content": spec}]}}, tmp_path)
    assert paths == [tmp_path / "roc.png"]
    image = Image.open(BytesIO(paths[0].read_bytes()))
    assert image.format == "PNG"
    assert image.width > 300
    assert len(set(image.convert("RGB").getdata())) > 10  # drawn, not blank


def test_offline_template_inlines_everything():
    page = build_template()
    assert "{plot_divs}" in page
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert "vegaEmbed" in page
    assert page.count("</script>") == 1
