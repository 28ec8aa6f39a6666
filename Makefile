# rumptools: every target sets itself up; `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
MANDIR := $(VENV)/share/man
MANSTAMP := $(MANDIR)/.installed

.PHONY: install test demo bench soak lint man clean deps generate fuzz-net fuzz-tcp

# Debian tools the tests and the tour use; installed only when missing (needs root and apt-get).
DEB_TOOLS := mandoc:mandoc hexdump:bsdextrautils openssl:openssl taskset:util-linux tshark:tshark tcpdump:tcpdump man:man-db gcc:gcc \
             makefs:makefs fls:sleuthkit cpio:cpio \
             ip:iproute2 tc:iproute2 nsenter:util-linux dnsmasq:dnsmasq-base curl:curl

# the C sources are built by pip (setup.py): a change rebuilds
$(STAMP): pyproject.toml setup.py rumptools/kernel/rumpuser/hostops.c $(wildcard rumptools/hijack/*.c rumptools/hijack/*.h)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]' --config-settings editable_mode=compat
	$(PY) -m compileall -q rumptools >/dev/null
	touch $(STAMP)

# A plain `pip install` puts the manual pages in share/man (pyproject's data-files);
# the editable install used here does not, so they are copied the same way.
$(MANSTAMP): $(STAMP) $(wildcard man/*.[1378])
	for s in 1 3 7 8; do mkdir -p $(MANDIR)/man$$s && cp man/*.$$s $(MANDIR)/man$$s/; done
	touch $(MANSTAMP)

install: $(STAMP) $(MANSTAMP)

deps:
	@missing=""; for pair in $(DEB_TOOLS); do command -v $${pair%%:*} >/dev/null || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else echo "warning: please install:$$missing (Debian packages)"; fi; \
	fi

test: deps $(STAMP) $(MANSTAMP)
	$(PY) -m pytest -q tests

demo: deps $(STAMP) $(MANSTAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash examples/first-server.sh
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash examples/cgd-session.sh
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash examples/ffs-makefs-session.sh
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash examples/network-session.sh
	@echo; echo '# The manual pages come with the commands: man rump.halt'
	@PATH="$(CURDIR)/$(VENV)/bin:$$PATH"; if command -v man >/dev/null; then \
		MANPATH="$(CURDIR)/$(MANDIR):$$MANPATH" man -P cat rump.halt; \
	else mandoc -T utf8 man/rump.halt.8; fi

bench: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) bench/run_all.py

soak: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) bench/soak.py 120

# 100,000 malformed frames onto a shmif bus while two kernels ping (the tests push 3,000)
fuzz-net: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) bench/bench_net.py --fuzz

# 100,000 malformed TCP segments at a listening and an established socket (the tests send 3,000)
fuzz-tcp: $(STAMP)
	TCP_FUZZ_SEGMENTS=100000 $(PY) -m pytest -q -s tests/integration/test_tcp_fuzz.py

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
