# The two commands of the README: `make demo` and `make test`. Both build .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint unit bench bench-transcription clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

# Each line: the replay arguments of one example (documents, then options).
DEMOS := \
	"examples/welcome.xml" \
	"examples/busy.xml" \
	"examples/conference-muted.xml --callers 2" \
	"examples/conference-participant.xml examples/conference-participant.xml examples/conference-moderator.xml --digits * --digits-delay 6" \
	"examples/conference-recorded.xml --callers 2" \
	"examples/conference-digits.xml --digits 123 --digits-delay 1.5" \
	"examples/call-centre-customer.xml examples/call-centre-agent.xml examples/call-centre-supervisor.xml --hearing --hangup-after 0.5 --time-scale 0.1" \
	"examples/call-centre-held.xml examples/call-centre-agent.xml examples/call-centre-supervisor.xml --hearing --hangup-after 0.5 --time-scale 0.1"

demo: $(STAMP)
	@for args in $(DEMOS); do \
	  echo "== plivoxml-fs replay $$args"; \
	  set -f; $(BIN)/plivoxml-fs replay $$args || exit $$?; set +f; \
	done

lint: $(STAMP)
	$(BIN)/ruff check plivoxml_fs tests scripts

# pytest-xdist workers for `make test` (`make test PYTEST_WORKERS=0`: in one process, no workers).
# The suite is mostly real-time audio, waiting rather than computing, so 3 workers on 2 cores
# keep the cores busy without starving the audio (README, Tests); .ci/run starts one real
# FreeSWITCH per worker. --dist loadgroup keeps the real-FreeSWITCH tests on one worker when
# they share one FreeSWITCH (tests/fs/instances.py).
PYTEST_WORKERS ?= 3

unit: $(STAMP)
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadgroup

test: lint unit

bench: $(STAMP)
	$(BIN)/python scripts/bench.py --hold 1000
	$(BIN)/python scripts/bench_ai.py

# WER and CPU per audio second of each transcription engine (docs/transcription.md)
bench-transcription: $(STAMP)
	$(BIN)/python scripts/transcription_bench.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
