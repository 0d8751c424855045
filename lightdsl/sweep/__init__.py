"""The sweep engine (optional extra ``sweep``: Optuna, imported lazily): trials of a checked
:mod:`lightdsl.space` as normal runs, pruning, resume, worker processes, ``sweep show``."""
