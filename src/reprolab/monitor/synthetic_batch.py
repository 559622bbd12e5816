"""Write a production batch of fresh synthetic rows, drifted on request, for `monitor`.

    python -m reprolab.monitor.synthetic_batch --output data/production/batch_001.parquet \\
        --rows 20000 --seed 1 [--shift 1.0] [--scale 2.0] [--category-shift 0.3] \\
        [--unseen 0.1] [--missing-rate 0.2] [--class-balance 0.2,0.3,0.5] \\
        [--columns num_00,cat_00]

The rows come from the distribution that params.yaml's `data.source` (data=synthetic)
describes, drawn with --seed instead of data.source.seed (use another value: the same
one repeats the training rows). Every row gets event_day = data.source.days, the day
after the training history.

--shift K           adds K standard deviations to the drifting numeric features
--scale F           multiplies their spread by F
--category-shift P  moves a share P of the drifting categorical values to their rarest category
--unseen P          sets a share P of them to a category never seen in training
--missing-rate P    empties a share P of all feature values (instead of data.source.missing_rate)
--class-balance S   class shares (prior shift), e.g. 0.2,0.3,0.5
--columns C,...     which features drift (default: the informative ones)
Same arguments, same bytes. Then `dvc repro` (the monitor stage) gives the verdict.
"""

from __future__ import annotations

from pathlib import Path

from reprolab.core.errors import ReprolabError
from reprolab.core.shell import command_parser, user_errors


def _shares(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise ReprolabError(
            f"--class-balance {text!r}: expected comma-separated shares, e.g. 0.2,0.3,0.5"
        ) from None


def main(argv: list[str] | None = None) -> int:
    from reprolab.core.config import get, load_params  # noqa: PLC0415
    from reprolab.data import synthetic  # noqa: PLC0415

    parser = command_parser("reprolab.monitor.synthetic_batch", __doc__)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shift", type=float, default=0.0)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--category-shift", type=float, default=0.0)
    parser.add_argument("--unseen", type=float, default=0.0)
    parser.add_argument("--missing-rate", type=float, default=None)
    parser.add_argument("--class-balance", default=None)
    parser.add_argument("--columns", default="")
    args = parser.parse_args(argv)
    with user_errors("synthetic_batch"):
        source = get(load_params(), "data.source")
        if source.get("kind") != "synthetic":
            raise ReprolabError(
                f"data.source.kind: found {source.get('kind')!r}; expected 'synthetic' "
                "(compose with data=synthetic), or use `python -m reprolab.monitor.test_batch`"
            )
        if args.rows < 1:
            raise ReprolabError(f"--rows: found {args.rows}; expected at least 1")
        if args.scale <= 0:
            raise ReprolabError(f"--scale: found {args.scale}; expected a factor above 0")
        spec = synthetic.spec_from_config(source)
        drift = synthetic.Drift(
            shift=args.shift,
            scale=args.scale,
            category_shift=synthetic.fraction(args.category_shift, "--category-shift"),
            unseen=synthetic.fraction(args.unseen, "--unseen"),
            missing_rate=(
                None
                if args.missing_rate is None
                else synthetic.fraction(args.missing_rate, "--missing-rate")
            ),
            class_balance=(
                None
                if args.class_balance is None
                else synthetic.balance(_shares(args.class_balance), "--class-balance")
            ),
            columns=tuple(c for c in args.columns.split(",") if c),
        )
        chunks = synthetic.generate(spec, args.rows, drift, first_day=spec.days, row_seed=args.seed)
        synthetic.write(args.output, chunks, args.rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
