# rumptools: every target sets itself up; `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install test demo bench lint man clean deps

# Debian tools the tests and the tour use; installed only when missing (needs root and apt-get).
DEB_TOOLS := mandoc:mandoc hexdump:bsdextrautils openssl:openssl taskset:util-linux \
             makefs:makefs fls:sleuthkit

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]' --config-settings editable_mode=compat
	$(PY) -m compileall -q rumptools >/dev/null
	touch $(STAMP)

install: $(STAMP)

deps:
	@missing=""; for pair in $(DEB_TOOLS); do command -v $${pair%%:*} >/dev/null || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else echo "warning: please install:$$missing (Debian packages)"; fi; \
	fi

test: deps $(STAMP)
	$(PY) -m pytest -q tests

demo: deps $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash examples/first-server.sh
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash examples/cgd-session.sh
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash examples/ffs-makefs-session.sh

bench: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) bench/run_all.py

lint: $(STAMP)
	$(PY) -m pyflakes rumptools tests bench 2>/dev/null || $(PY) -m pip install -q pyflakes && $(PY) -m pyflakes rumptools tests bench

man:
	for f in man/*.[1-9]; do mandoc -T lint -W warning $$f || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info
