# Two commands on a fresh machine:
#   make demo   - create .venv, install lightdsl, train the embedded StatQuest spec
#   make test   - create .venv, install lightdsl with its dev extra, run the test suite
# torch is pinned (constraints.txt) so that no multi-GB CUDA build is downloaded.

VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip -q --disable-pip-version-check

.PHONY: demo test check bench clean

demo: $(VENV)/.installed
	$(BIN)/lightdsl train specs/statquest.lit

# The suite in parallel (pytest-xdist): 4 workers, one file per worker at a time (a file's
# module fixtures are made once). Four, not one per core: many tests wait on a child process,
# and on a busy 2-core machine 4 workers took 461 s where 2 took 589 s (idle: 230 s, 227 s).
# `make test TEST_ARGS=` runs it in one process.
TEST_ARGS ?= -n 4 --dist loadfile

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest $(TEST_ARGS)

# specs/*.lit are the working examples; the README's deliberately broken spec lives in
# specs/mistakes/ so that this target (and CI) fails only for a real mistake. They are kept
# as `lightdsl fmt` writes them.
check: $(VENV)/.installed
	$(BIN)/lightdsl check specs/*.lit
	$(BIN)/lightdsl fmt --check specs/*.lit

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml constraints.txt
	$(PIP) install -c constraints.txt torch
	$(PIP) install -c constraints.txt -e ".[plot]"
	@# the bytecode cache pip writes for a wheel, here too: an editable install where
	@# PYTHONDONTWRITEBYTECODE=1 would compile every module at each start (check: +0.08 s)
	$(BIN)/python -m compileall -q lightdsl
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install -c constraints.txt -e ".[dev]"
	touch $@

clean:
	rm -rf $(VENV) build dist *.egg-info lightning_logs
