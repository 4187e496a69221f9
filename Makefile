# The two commands of the README's quick start. Each sets up what it needs.
.PHONY: setup demo test lint bench

setup:
	@scripts/setup.sh

demo: setup
	@scripts/demo.sh

test: setup
	.venv/bin/ruff check .
	.venv/bin/python -m pytest

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

bench: setup
	@for b in benchmarks/bench_*.py; do echo "== $$b"; .venv/bin/python "$$b" || exit 1; done
