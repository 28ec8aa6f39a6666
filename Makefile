# rumptools: every target sets itself up; `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install test demo bench lint man clean deps generate

# Debian tools the tests and the tour use; installed only when missing (needs root and apt-get).
DEB_TOOLS := mandoc:mandoc hexdump:bsdextrautils openssl:openssl taskset:util-linux gcc:gcc cpio:cpio

# the C sources of the hijack library are built by pip (setup.py): a change rebuilds
$(STAMP): pyproject.toml setup.py $(wildcard rumptools/hijack/*.c rumptools/hijack/*.h)
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

bench: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) bench/run_all.py

lint: $(STAMP)
	$(PY) -m pyflakes rumptools tests bench 2>/dev/null || $(PY) -m pip install -q pyflakes && $(PY) -m pyflakes rumptools tests bench

# the files made from the syscall table (rumptools/abi/syscalls.py); tests check they are current
generate: $(STAMP)
	$(PY) tools/gen_syscall_header.py
	$(PY) tools/gen_rump_sp_list.py

man:
	for f in man/*.[1-9]; do mandoc -T lint -W warning $$f || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info rumptools/hijack/librumphijack.so
