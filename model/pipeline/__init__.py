"""Training and export pipeline for the models the batch inference system serves.

Run from model/:  python -m pipeline.train --out ../models  (or `make models`).
"""
