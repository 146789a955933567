# Fangkong task runner. `make run` and `make test` do all set-up on a fresh machine.
PY := .venv/bin/python
UV := .tools/bin/uv
UV_VERSION := 0.13.9

.PHONY: install run test fuzz lint format ci messages bench clean

install: .venv/.installed fangkong/static/vendor/.installed

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install -q --disable-pip-version-check uv==$(UV_VERSION)

.venv/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen
	touch $@

fangkong/static/vendor/.installed: package.json package-lock.json scripts/copy_vendor.py
	npm ci --no-audit --no-fund --loglevel=error
	$(PY) scripts/copy_vendor.py
	touch $@

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	$(PY) manage.py demo_today
	$(PY) manage.py load_relief_demo
	DEBUG=$${DEBUG:-1} bash scripts/run.sh

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# The HTTP API fuzzed from its OpenAPI schema against a live server (schemathesis): no 5xx.
fuzz: install
	$(PY) scripts/api_fuzz.py

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: install
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

# Run from the root so references stay fangkong/…; N_ marks gettext_noop strings.
messages: install
	$(PY) manage.py makemessages -l en --keyword=N_ --ignore=.venv --ignore=.tools --ignore=node_modules \
	  --ignore=bench --ignore=tests --ignore=scripts --ignore=docs --ignore=test-artifacts --ignore=var \
	  --ignore=fangkong/static --ignore=manage.py
	$(PY) manage.py compilemessages -l en

ci:
	bash .ci/run

clean:
	rm -rf .venv .tools node_modules fangkong/static/vendor staticfiles
