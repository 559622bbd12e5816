"""Render DVC's plot specs to PNG files offline (vl-convert: no browser, no network)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reprolab.core.files import write_bytes


def image_name(plot_id: str) -> str:
    """plots/roc.json -> roc.png"""
    return Path(plot_id).stem + ".png"


def render_pngs(plots_diff: dict[str, Any], out_dir: Path, scale: float = 2.0) -> list[Path]:
    """Write one PNG per plot of `dvc plots diff --json` (all revisions in one chart)."""
    import vl_convert  # noqa: PLC0415

    written = []
    for plot_id, renders in sorted((plots_diff.get("data") or {}).items()):
        vega = [r for r in renders if r.get("type") == "vega"]
        if not vega:
            continue
        path = out_dir / image_name(plot_id)
        write_bytes(path, vl_convert.vegalite_to_png(vl_spec=vega[0]["content"], scale=scale))
        written.append(path)
    return written
