# ktimers — top-level build. `make setup` installs everything; `make demo` is the main job;
# `make test` runs every test. Builds are cached under build/ and .venv/ (both ignored).
PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
BOARD ?= mps2-an385

.PHONY: setup deps venv src unix firmware firmware-frozen firmware-nocore firmware-nocore-frozen libqstrs test demo bench clean fmt upstream-tests

setup: deps venv unix firmware firmware-frozen firmware-nocore

deps:
	$(MAKE) -C firmware deps

venv: $(VENV)/.stamp
$(VENV)/.stamp: pyproject.toml
	$(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e '.[dev]'
	touch $@

src:
	$(MAKE) -C firmware src

unix:
	$(MAKE) -C firmware unix

firmware:
	$(MAKE) -C firmware firmware FREEZE=$(FREEZE)

firmware-frozen:
	$(MAKE) -C firmware firmware FREEZE=1

# The same firmware without ktimers' C core, as a stock MicroPython build would be: the library
# runs all-Python on it (the device tests run there too; `make bench` measures it).
firmware-nocore:
	$(MAKE) -C firmware firmware CCORE=0

firmware-nocore-frozen:
	$(MAKE) -C firmware firmware FREEZE=1 CCORE=0

# Regenerate firmware/cmodules/ktimers/libqstrs.c (the library's names as ROM qstrs) after
# adding names to lib/ktimers; tests/host/test_c_core.py fails while it is stale.
libqstrs: venv
	$(VPY) firmware/libqstrs.py

# MicroPython's own tests/run-tests.py on the emulated firmware (non-zero on any failure);
# tests/host/test_upstream.py runs the same inside `make test`.
upstream-tests: venv firmware
	$(VPY) firmware/upstream_tests.py --deterministic

test: setup
	$(VPY) -m pytest tests -q

demo: setup
	$(VENV)/bin/ktimers --board $(BOARD) demo --json reports/validate.json --junit reports/validate.xml --plot reports/validate.png

fmt:
	$(VENV)/bin/ruff format host tests
	$(VENV)/bin/ruff check --fix host tests

clean:
	rm -rf build/unix build/mps2-an385/firmware*.elf

# One deterministic run on the emulated board (its own QEMU, -icount), the frozen firmware's
# import heap, the same library on the firmware without the C core, then a shorter run on the
# unix board; figures and issue-8 goals side by side.
bench: setup firmware-nocore-frozen
	$(VPY) -m ktimers_host.bench --json reports/bench.json
