"""What every stage and command shares: the params loader and paths (config), atomic
file writes (files), the user-error type (errors), the stage shell (shell) and the
check that a workspace file is the one dvc.lock records (lockfile).

Stages depend on this folder as one entry in dvc.yaml, which keeps dvc.lock short:
a no-op `dvc repro` spends most of its time parsing YAML.
"""
