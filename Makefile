# Two commands do all the setup on a fresh machine:
#   make book   create .venv, install the pinned dependencies, build the book (about 2 min + notebook time)
#   make test   the same install, then unit tests and nbval on every notebook
#   make lab    the same install, then JupyterLab (with its MyST renderer) on the notebooks
# Further targets: make bench (benchmark table), make lock (re-pin), make clean.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(BIN):$(PATH)
# Notebook kernels must use their inline backend: with MPLBACKEND=Agg inherited
# from the environment, plt.show() draws nothing and pages lose their figures.
unexport MPLBACKEND
# Single-threaded OpenBLAS: multithreaded reductions are not bit-reproducible from run to run.
export OPENBLAS_NUM_THREADS ?= 1
# Panels show their static form (static slider and one line) in built pages and stored outputs;
# a reader's kernel (make lab, Binder, Colab) shows the live panel: make lab unsets this.
export LEARNREG_STATIC_PAGES := 1

.PHONY: install book test lab figures bench lock clean

# Git's clean filter for notebooks (see .gitattributes and learnreg.book.notebook_store): a notebook
# saved after a run is staged with its text outputs only, without images or widget state.
# Registered in this checkout's .git/config when the project folder is the top of a git checkout.
define register_notebook_filter
	@if [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$(CURDIR)" ]; then \
	  git config filter.learnreg-notebook.clean "$(BIN)/python -m learnreg.book.notebook_store"; \
	fi
endef

install: $(STAMP)

$(STAMP): pyproject.toml requirements-lock.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c requirements-lock.txt -e ".[book,test,torch,cluster]"
	$(register_notebook_filter)
	touch $(STAMP)

# Executed notebooks are cached by jupyter-cache, keyed on their code cells only.
# So that a change in the package never shows stale results, the cache is
# dropped whenever the package sources change.
SRC_HASH = $(shell cat $$(find src -name '*.py' -type f | LC_ALL=C sort) pyproject.toml | sha256sum | cut -c1-16)

# The notebooks are executed by scripts/execute_book.py (JOBS kernels at a time, IPC transport,
# the cell timeout of _config.yml; see learnreg.book.execution for why) into jupyter-book's
# execution cache; jupyter-book then finds every notebook cached.
JOBS ?= 2
# The per-cell timeout, from _config.yml (execute: timeout:), for nbval as for the book.
CELL_TIMEOUT := $(shell sed -n 's/^  timeout: *\([0-9][0-9]*\).*/\1/p' _config.yml)

book: $(STAMP)
	@mkdir -p _build
	@if [ "$$(cat _build/.src-hash 2>/dev/null)" != "$(SRC_HASH)" ]; then \
	  echo "package sources changed: clearing the notebook execution cache"; \
	  rm -rf _build/.jupyter_cache _build/jupyter_execute _build/claims; \
	fi
	$(BIN)/python scripts/execute_book.py --jobs $(JOBS)
	$(BIN)/jupyter-book build . -W --keep-going
	@echo "$(SRC_HASH)" > _build/.src-hash
	@echo "book built: open _build/html/index.html"

# Under the machine-noise guard (tests/noise_guard.py, applied by tests/conftest.py).
test: $(STAMP)
	$(BIN)/python -m pytest --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout $(CELL_TIMEOUT)

# JupyterLab from .venv, with jupyterlab-myst so that propositions, proofs and citations render.
# Further options go in LAB_ARGS, e.g.  make lab LAB_ARGS="--no-browser --port=8890"
# (As root, in a container for example, JupyterLab refuses to start without --allow-root.)
lab: $(STAMP)
	$(register_notebook_filter)
	env -u LEARNREG_STATIC_PAGES $(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

# Every labelled figure of the book, without running a notebook, and a manifest (label, chapter,
# caption, the function that made it, the seed):  make figures FORMAT=pdf|svg|png
FORMAT ?= pdf
figures: $(STAMP)
	$(BIN)/python -m learnreg figure --all --format $(FORMAT) --output _build/figures

bench: $(STAMP)
	$(BIN)/python scripts/bench.py
	$(MAKE) book   # show the new table on the benchmarks page

lock: $(STAMP)
	{ echo "# Pinned versions for 'pip install -c requirements-lock.txt -e .[book,test,torch]'."; \
	  echo "# Regenerate with 'make lock' after changing dependencies in pyproject.toml."; \
	  $(BIN)/python -m pip freeze --exclude-editable | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'; } > requirements-lock.txt.new
	mv requirements-lock.txt.new requirements-lock.txt

clean:
	rm -rf _build
