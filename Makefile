# The two commands of the README's quick start. Each sets up what it needs.
.PHONY: setup demo test lint bench config-docs

setup:
	@scripts/setup.sh

demo: setup
	@scripts/demo.sh

# The VM image is built (or found in the cache) before the tests, with its progress shown:
# a changed image recipe is minutes of work no single test's timeout should pay.
test: setup
	.venv/bin/ruff check .
	.venv/bin/rig vm image build
	.venv/bin/python -m pytest

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

bench: setup
	@for b in benchmarks/bench_*.py; do echo "== $$b"; .venv/bin/python "$$b" || exit 1; done

# The configuration reference in docs/configuration.md, generated from the models.
config-docs: setup
	.venv/bin/python -c "from pathlib import Path; from rig.config_reference import write_page; write_page(Path('docs/configuration.md'))"
