"""What every stage and command shares: the params loader and paths (config), atomic
file writes (files), the user-error type (errors) and the stage shell (shell).

Stages depend on this folder as one entry in dvc.yaml, which keeps dvc.lock short:
a no-op `dvc repro` spends most of its time parsing YAML.
"""
