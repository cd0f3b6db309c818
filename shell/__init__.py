"""The shell: the top layer that wires the ground (`trialmon`), `etl`, `indicators`
and `dashboard` together -- the command line (`cli`), the pipeline
migrate -> reference -> load -> compute -> serve (`pipeline`) and the server entry.

Nothing below imports from here (docs/DEVELOPING.md, tests/test_layers.py)."""
