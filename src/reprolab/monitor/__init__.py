"""Monitoring production data: production (the batches of data/production/, read and
typed as training's features), drift (the statistics per feature), estimation
(performance without labels: CBPE for classifiers, DLE for regressors), performance
(per batch: estimated, realized, and the checks of the estimator; features'
importance), verdict (all of it summed up for `metrics/monitor.json`: retrain on
performance, warn on drift), and batch: the one command that
writes production batches for trying it (held-out or fresh synthetic rows), drifted on
request.

Imports: core/, data/ and model/. Never workflow/, serve/ or stages/.
"""
