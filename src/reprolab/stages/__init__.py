"""One thin command-line module per DVC stage; each is named after its stage.

DVC runs stages with whatever `python` is first on PATH. Run from an environment
without the project's packages (e.g. `.venv/bin/dvc exp run` without activating
.venv), a stage would die in an import traceback; this check, which runs before
any stage module and uses the standard library only, says so in one line instead.
"""

import importlib.util
import sys

# What the stages import (module names, not distribution names).
_REQUIRED = ("numpy", "pandas", "pyarrow", "sklearn", "yaml", "skops", "pandera", "scipy")


def _require_project_environment() -> None:
    missing = [name for name in _REQUIRED if importlib.util.find_spec(name) is None]
    if missing:
        # While the package imports, argv[0] is still "-m": the module is in orig_argv.
        argv = list(getattr(sys, "orig_argv", []))
        module = argv[argv.index("-m") + 1] if "-m" in argv[:-1] else "stage"
        stage = module.rsplit(".", 1)[-1]
        print(
            f"{stage}: error: {sys.executable} lacks {', '.join(missing)}; expected the "
            "project's environment on PATH: run `source .venv/bin/activate` (after "
            "`make install`) before dvc, or use `make repro`",
            file=sys.stderr,
        )
        raise SystemExit(1)


_require_project_environment()
