"""Training scripts of the models this project ships (run as modules, e.g. `python -m metrics.training.shapes_clip`)."""
