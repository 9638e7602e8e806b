# The two commands of the README: `make run` and `make test`.
CARGO   ?= cargo
PREFIX  ?= /usr/local
PYTHON  ?= python3
VENV    := .venv
VPY     := $(VENV)/bin/python
DEBUG_BIN   := target/debug/supervisor
RELEASE_BIN := target/release/supervisor

.PHONY: all build release run install test unit interop e2e venv browser fuzz lint clean bench bench-quick

all: build

build:
	$(CARGO) build

release:
	$(CARGO) build --release

# Build and run the daemon in the foreground on the sample configuration.
run: release
	mkdir -p conf/run
	exec $(RELEASE_BIN) supervisord -c conf/supervisord.conf -n

# bin/supervisor plus the three names it answers to.
install: release
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(RELEASE_BIN) $(DESTDIR)$(PREFIX)/bin/supervisor
	for name in supervisord supervisorctl echo_supervisord_conf; do \
	  ln -sf supervisor $(DESTDIR)$(PREFIX)/bin/$$name; \
	done

# The Python side of the tests: the reference (as oracle and as client) and pytest.
$(VENV)/.ready: tests/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
	touch $@

venv: $(VENV)/.ready

# Debian's chromium and its driver, for the web UI test in a real headless
# browser (tests/interop/test_web.py); installed (as root) only when missing.
CHROMIUM     := /usr/bin/chromium
CHROMEDRIVER := /usr/bin/chromedriver
browser:
	@if [ ! -x $(CHROMIUM) ] || [ ! -x $(CHROMEDRIVER) ]; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "$(CHROMIUM) or $(CHROMEDRIVER) is missing: run 'make browser' as root" >&2; exit 1; \
	  fi; \
	  echo "installing chromium and chromium-driver"; \
	  apt-get update -qq >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi

# Every test: unit and integration (cargo), interop (pytest against the
# reference), the reference's own end-to-end suite, and the install layout.
test: venv browser
	$(CARGO) build
	$(CARGO) test
	tests/install_check.sh
	tests/e2e/run.sh $(abspath $(VPY)) $(abspath $(DEBUG_BIN))
	SUPERVISOR_BIN=$(abspath $(DEBUG_BIN)) $(VPY) -m pytest -q tests/interop

# Benchmarks against the reference in the same run (SPEC.md section 9): each
# of tests/bench/*_bench.py prints a table and rewrites its own section of
# BENCHMARKS.md. `make bench BENCHES="rpc ctl"` runs some of them;
# `make bench-quick` (BENCH_ARGS=--quick) shortens their windows and repeats.
BENCHES    ?= daemon logging rpc ctl events
BENCH_ARGS ?=
bench: release venv
	@status=0; for b in $(BENCHES); do \
	  echo "== tests/bench/$${b}_bench.py"; \
	  $(VPY) tests/bench/$${b}_bench.py --ours $(abspath $(RELEASE_BIN)) \
	    --python $(abspath $(VPY)) $(BENCH_ARGS) || status=1; \
	done; exit $$status

bench-quick:
	$(MAKE) bench BENCH_ARGS=--quick

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

# Fuzz the parsers (cargo-fuzz on the stable toolchain): the configuration
# loader, then the XML-RPC reader (with a write-and-read-back check);
# FUZZ_SECONDS each.
FUZZ_SECONDS ?= 600
fuzz:
	command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz
	cd fuzz && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run config corpus/config -- \
	  -dict=config.dict -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048
	cd fuzz && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run xmlrpc corpus/xmlrpc -- \
	  -max_len=8192 -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048

clean:
	$(CARGO) clean
	rm -rf $(VENV) conf/run
