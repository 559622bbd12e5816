"""Everything that drives dvc and git from outside the pipeline, through one wrapper
(vcs): runs (what every way of running experiments gives back: RunResult, Runner,
new names), compose (params.yaml from conf/), ranking (which run is best), experiments,
experiment_table and experiment_report (`make exps`), sweep (`make sweep`; on a Ray
cluster ray_sweep, each run by ray_run, connected by engine.cluster), search, search_space and search_report
(`make search`: Optuna trials as experiments), promote and config_edits (`make
promote`), report, gate and comparability (the PR report and merge gate), verify (byte
reproducibility), stage_deps (`make deps`: dvc.yaml's code deps from the imports),
registry and registry_rules (`make register`, `make assign`, `make registry`: the model
registry in GTO's git tags), reset, and the offline plot rendering (offline_plots,
plot_images).

May import every other folder except stages/; nothing outside it imports workflow/
except the package stage (compose, for the model card) and the service (vcs).
"""
