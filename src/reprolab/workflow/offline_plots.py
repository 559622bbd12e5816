"""Build the HTML template that makes `dvc plots show/diff` pages render offline.

DVC's default page loads Vega, Vega-Lite and Vega-Embed from a CDN, so it is blank
without network. This template inlines them from the installed vl-convert-python
package instead; `.dvc/config` points `plots.html_template` at it. It is built at
set-up (`make install`), never committed.

    python -m reprolab.workflow.offline_plots [--output .dvc/offline_plots.html]
"""

from __future__ import annotations

from pathlib import Path

from reprolab.core.config import OFFLINE_PLOTS_TEMPLATE
from reprolab.core.files import write_bytes
from reprolab.core.shell import command_parser

PAGE = """<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  {refresh_tag}
  <title>DVC plots</title>
  <script>{bundle}
{empty_guard}</script>
  <style>body {{ font-family: sans-serif; }} table {{ border-spacing: 15px; }}
  .empty-plot {{ color: #777; font-style: italic; }}</style>
</head>
<body>
  {{plot_divs}}
</body>
</html>
"""


# DVC embeds a plot file with no data (e.g. the regression plots of a classifier) as an
# empty spec: an untitled blank panel. Such a panel says what it is instead.
EMPTY_GUARD = """(function () {
  var embed = window.vegaEmbed;
  window.vegaEmbed = function (el, spec, opts) {
    if (spec && Object.keys(spec).length) { return embed(el, spec, opts); }
    var div = document.querySelector(el);
    var note = document.createElement("p");
    note.className = "empty-plot";
    note.textContent = el.replace(/^#/, "").replace(/_json$/, ".json") +
      ": no data in this revision (the plot does not apply to this task)";
    div.appendChild(note);
    return Promise.resolve();
  };
})();"""


def build_template() -> str:
    """A DVC HTML template (with `{plot_divs}`) whose JavaScript is all inline."""
    import vl_convert  # noqa: PLC0415

    # A literal "</script>" inside the bundle would end the tag early.
    # Its stub says `snippet` is required; it defaults to assigning the libraries globally.
    bundle = vl_convert.javascript_bundle().replace(  # type: ignore[call-arg]
        "</script", "<\\/script"
    )
    return PAGE.format(bundle=bundle, empty_guard=EMPTY_GUARD, refresh_tag="{refresh_tag}")


def main(argv: list[str] | None = None) -> int:
    parser = command_parser("reprolab.workflow.offline_plots", __doc__)
    parser.add_argument("--output", type=Path, default=OFFLINE_PLOTS_TEMPLATE)
    args = parser.parse_args(argv)
    write_bytes(args.output, build_template().encode("utf-8"))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
