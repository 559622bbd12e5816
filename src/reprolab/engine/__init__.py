"""Where one run's fit and predictions happen (`conf/engine`): settings (the `engine`
section, typed), shards (which training rows each worker holds), cluster (connecting
to Ray, or starting a local one), ray_fit (a boosting fit with Ray Train, one fixed
share of the rows per worker), ray_predict (predictions through Ray Data, in row order).

Imports: core/, data/ and model/. The stages call it; the model file it writes is the
one `engine=local` writes, so nothing after `train` knows which engine made it.
"""
