# The README's commands. Everything runs from a virtual environment made here on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export TZ := Asia/Shanghai

.PHONY: run test test-pg bench bench-events lint migrate seed install console

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

migrate: install
	$(BIN)/python server.py migrate

seed: migrate
	$(BIN)/python server.py seed-demo

# The staff console (console/, Vue + Vite): built again only when its sources or lock file changed.
CONSOLE_SOURCES := $(shell find console/src -type f 2>/dev/null) console/index.html console/vite.config.js \
	console/package.json console/package-lock.json

console/node_modules/.installed: console/package.json console/package-lock.json
	cd console && npm ci --no-audit --no-fund --loglevel=error
	touch $@

console/dist/index.html: console/node_modules/.installed $(CONSOLE_SOURCES)
	cd console && npx vite build --logLevel warn
	touch $@

console: console/dist/index.html

run: seed console
	$(BIN)/python server.py

# On every core (pytest-xdist): each worker has its own database, Redis database and job queue, and the first
# line says which stores ran. `$(BIN)/python -m pytest tests/x` runs a part in one process.
PYTEST := $(BIN)/python -m pytest -n auto --dist worksteal

test: install console
	$(PYTEST)

# The same suite on PostgreSQL and Redis (what CI's second run does). Worker N uses Redis database
# REDIS_URL's number + N, so -n auto runs as many workers as there are databases from that number up.
test-pg: install console
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/8} $(PYTEST)

bench: install
	$(BIN)/python bench/http.py

# The priority lane: an application's message while a campaign of 200,000 sends (PostgreSQL and Redis, see bench/stack.py).
bench-events: install
	$(BIN)/python bench/event_latency.py

lint: install
	$(BIN)/ruff check .
