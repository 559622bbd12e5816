"""Serving the trained model: scoring (the one path from records to predictions, shared
by batch and HTTP), predict (batch prediction of a file), app (the HTTP service),
limits (the bounds every request stays within) and middleware (each request counted
and timed under its route; the last-resort JSON 500).

Imports: core/, data/ and model/; app also workflow.vcs (`git rev-parse HEAD`: the
revision of the checkout being served, in /metadata).
"""
