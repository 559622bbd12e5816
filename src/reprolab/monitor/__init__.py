"""Monitoring production data: production (the batches of data/production/, read and
typed as training's features), drift (the statistics per feature), verdict (drift and
performance summed up for `metrics/monitor.json`), and batch: the one command that
writes production batches for trying it (held-out or fresh synthetic rows), drifted on
request.

Imports: core/, data/ and model/. Never workflow/, serve/ or stages/.
"""
