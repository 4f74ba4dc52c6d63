# Two commands: `make run` and `make test`. Both set up .venv from the pinned requirements first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint demo clean bench chromium

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.txt
	@$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

run: $(STAMP)
	@$(BIN)/alumnibot run

# `make demo DEMO_LANGUAGE=nb` plays the demo in Norwegian; `make demo LANG=nb` works too. LANG
# is also the shell's locale (en_US.UTF-8 on most desktops): only a bare `en` or `nb` picks the
# demo's language, and then the demo runs with a UTF-8 locale instead of the bogus "nb".
DEMO_LANGUAGE ?= $(filter en nb,$(LANG))

demo: $(STAMP)
	@$(if $(filter en nb,$(LANG)),LANG=C.UTF-8 )$(BIN)/alumnibot demo $(if $(DEMO_LANGUAGE),--language $(DEMO_LANGUAGE))

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The dashboard's browser tests drive Debian's chromium (Playwright's own browser download
# cannot work here); installed as root in CI, through sudo on a developer's machine.
chromium:
	@command -v chromium >/dev/null || (sudo -n apt-get install -y chromium || apt-get install -y chromium || (apt-get update && apt-get install -y chromium))

# Two workers: the suite takes about 40% less time on the 2-core machine (docs/TESTING.md).
test: lint chromium
	$(BIN)/pytest -n 2

bench: $(STAMP)
	@for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) data .mypy_cache .ruff_cache .pytest_cache
