# Shortcuts for the two Quick start commands (they need only Python >= 3.11).
.PHONY: demo test bench
demo:
	python3 dev.py demo
test:
	python3 dev.py test
bench:
	python3 dev.py test -q -k nothing >/dev/null 2>&1 || true
	.venv/bin/python benchmarks/onde_bench.py --pupils 100000
