import json
import re
from io import BytesIO
from pathlib import Path

from PIL import Image

from reprolab.comparison import MetricDelta, Verdict
from reprolab.offline_plots import build_template
from reprolab.plot_images import render_pngs
from reprolab.report import render


def test_report_has_verdict_key_metrics_folded_rest_params_and_images():
    deltas = [
        MetricDelta("balanced_accuracy", 0.95, 0.97, "maximize"),
        MetricDelta("log_loss", 0.2, 0.1, "minimize"),
        MetricDelta("test_rows", 80, 86, None),
    ]
    text = render(
        "main",
        deltas,
        ["balanced_accuracy", "log_loss"],
        [("model.C", 1.0, 0.5)],
        Verdict(True, "PASS balanced_accuracy: ..."),
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
    assert "![roc](pr_plots/roc.png)" in text


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
