"""The model: feature_settings (the `features` section, typed), features (the
preprocessor), category_codes (categories as codes for the models that split on them
natively), estimators (built from `conf/model`), chunked_fit (LightGBM and XGBoost
trained from the feature file a chunk of rows at a time: out of core), libraries (one
entry per estimator library: the one place to add one), calibration (probabilities
calibrated on held-out training rows; the calibration error), evaluation (metrics and
plot data), persistence (skops with an explicit type allowlist),
integrity (checks on a loaded model before it runs), card (the model card).

Imports: core/ and data/ only. Knows nothing of DVC, git or the command line.
"""
