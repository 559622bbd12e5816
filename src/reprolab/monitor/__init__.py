"""Monitoring production data: drift (the statistics per feature), verdict (drift and
performance summed up for `metrics/monitor.json`), and the commands that write
production batches for trying it: test_batch (held-out rows) and synthetic_batch
(fresh synthetic rows), both drifted on request.

Imports: core/, data/ and model/. Never workflow/, serve/ or stages/.
"""
