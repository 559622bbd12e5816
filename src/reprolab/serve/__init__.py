"""Serving the trained model: scoring (the one path from records to predictions, shared
by batch and HTTP), predict (batch prediction of a file), app (the HTTP service) and
limits (the bounds every request stays within).

Imports: core/, data/ and model/; app also workflow.vcs (to read dvc.lock's revision).
"""
