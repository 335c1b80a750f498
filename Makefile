# pushq - plain make, no generated build system.
#
#   make            build everything into build/
#   make run        build and start the server on http://127.0.0.1:8000/
#   make test       the layer check, then every Check suite (unit + integration)
#   make e2e        the pages in headless chromium (playwright-core)
#   make e2e-tls    the pages over https behind nginx (docs/nginx.conf)
#   make asan       the same suites under AddressSanitizer + UBSan (build/asan/)
#   make tsan       the same suites under ThreadSanitizer (build/tsan/)
#   make valgrind   the suites under valgrind, without fork (CK_FORK=no)
#   make bench      the benchmark suite against nginx, civetweb, Django, Node ws, nchan, Pushpin
#   make bench-quick  a one-minute subset of it
#   make install    binary, pages, man page, systemd example (PREFIX, DESTDIR)
#
# Variables you may set: CC, OPT, SANITIZER=address|thread, WERROR=, BUILD.

SHELL     := /bin/bash
CC        ?= cc
OPT       ?= -O2
BUILD     ?= build
SANITIZER ?=
WERROR    ?= -Werror

WARN   = -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes \
         -Wmissing-prototypes -Wformat=2
STD    = -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE

ifeq ($(SANITIZER),)
  SAN =
else ifeq ($(SANITIZER),address)
  SAN = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else ifeq ($(SANITIZER),thread)
  SAN = -fsanitize=thread -fno-omit-frame-pointer
else
  $(error SANITIZER must be empty, address or thread, not '$(SANITIZER)')
endif

# Flags from pkg-config, asked when a recipe first needs them (after the
# deps-* steps below may have installed the package).
CHECK_CFLAGS = $(shell pkg-config --cflags check)
CHECK_LIBS   = $(shell pkg-config --libs check)
CRYPTO_CFLAGS = $(shell pkg-config --cflags libcrypto)
CRYPTO_LIBS   = $(shell pkg-config --libs libcrypto)
HIREDIS_CFLAGS = $(shell pkg-config --cflags hiredis)
HIREDIS_LIBS   = $(shell pkg-config --libs hiredis)
JANSSON_CFLAGS = $(shell pkg-config --cflags jansson)
JANSSON_LIBS   = $(shell pkg-config --libs jansson)

ALL_CFLAGS  = $(STD) $(OPT) -g $(WARN) $(SAN) -pthread -MMD -MP -I. $(CRYPTO_CFLAGS) $(HIREDIS_CFLAGS) $(JANSSON_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SAN) -pthread $(LDFLAGS)
LIBS        = $(CRYPTO_LIBS) $(HIREDIS_LIBS) $(JANSSON_LIBS) -lm

# The server's modules, shared by the server binary, the tests and benchmarks.
LIB_SRC  = $(wildcard queue/*.c http/*.c) $(filter-out server/main.c,$(wildcard server/*.c server/*/*.c))
TEST_SRC = $(wildcard test/*.c)

LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
TEST_OBJ = $(TEST_SRC:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ = $(BUILD)/obj/server/main.o

PUSHQ      = $(BUILD)/pushq
TESTS      = $(BUILD)/check_pushq
QUEUE_BENCH = $(BUILD)/queue_bench
WAKEUP_FLOOR = $(BUILD)/wakeup_floor
SOCKET_FLOOR = $(BUILD)/socket_floor
FANOUT     = $(BUILD)/fanout

.PHONY: all run test e2e-tls check-layers check-excerpts check-install install uninstall stress fuzz e2e asan tsan valgrind bench bench-quick bench-queue clean \
        deps-server deps-test deps-fuzz

all: $(PUSHQ) $(TESTS) $(QUEUE_BENCH) $(FANOUT)

$(BUILD)/obj/%.o: %.c | deps-server
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# The default --www is this tree's www/ (the path lives in the binary only).
$(MAIN_OBJ): ALL_CFLAGS += -DSRV_DEFAULT_WWW='"$(CURDIR)/www"'

$(BUILD)/obj/test/%.o: test/%.c | deps-test
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -c $< -o $@

$(PUSHQ): $(MAIN_OBJ) $(LIB_OBJ)
	$(CC) $(ALL_LDFLAGS) $^ $(LIBS) -o $@

$(TESTS): $(TEST_OBJ) $(LIB_OBJ) | deps-test
	$(CC) $(ALL_LDFLAGS) $^ $(CHECK_LIBS) $(LIBS) -o $@

$(QUEUE_BENCH): $(BUILD)/obj/bench/queue_bench.o $(LIB_OBJ)
	$(CC) $(ALL_LDFLAGS) $^ $(LIBS) -o $@

$(FANOUT): $(BUILD)/obj/bench/fanout.o
	$(CC) $(ALL_LDFLAGS) $^ -o $@

$(WAKEUP_FLOOR): $(BUILD)/obj/bench/wakeup_floor.o
	$(CC) $(ALL_LDFLAGS) $^ -o $@

$(SOCKET_FLOOR): $(BUILD)/obj/bench/socket_floor.o
	$(CC) $(ALL_LDFLAGS) $^ -o $@

# make install: the binary, the pages, the man page and an example systemd
# unit under PREFIX (staged under DESTDIR).  The installed binary looks for
# its pages in PREFIX/share/pushq/www (and beside itself: bin/../share/...).
PREFIX  ?= /usr/local
DESTDIR ?=
INSTALLED_PUSHQ = $(BUILD)/installed/pushq
$(BUILD)/installed/main.o: server/main.c | deps-server
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DSRV_DEFAULT_WWW='"$(PREFIX)/share/pushq/www"' -c $< -o $@
$(INSTALLED_PUSHQ): $(BUILD)/installed/main.o $(LIB_OBJ)
	$(CC) $(ALL_LDFLAGS) $^ $(LIBS) -o $@

install: $(INSTALLED_PUSHQ)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/pushq/www \
	           $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/doc/pushq
	install -m 755 $(INSTALLED_PUSHQ) $(DESTDIR)$(PREFIX)/bin/pushq
	install -m 644 www/* $(DESTDIR)$(PREFIX)/share/pushq/www/
	install -m 644 docs/pushq.1 $(DESTDIR)$(PREFIX)/share/man/man1/pushq.1
	install -m 644 docs/pushq.service docs/api.md $(DESTDIR)$(PREFIX)/share/doc/pushq/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/pushq $(DESTDIR)$(PREFIX)/share/man/man1/pushq.1
	rm -rf $(DESTDIR)$(PREFIX)/share/pushq $(DESTDIR)$(PREFIX)/share/doc/pushq

# The man page renders without a warning and names every option of
# --help; make install then serves the installed pages (test/check_install.py).
check-install: $(PUSHQ)
	$(call need,groff-base man-db,command -v groff && command -v man)
	@python3 test/check_install.py $(PUSHQ) $(BUILD)

# The civetweb peer (only for the benchmarks; apt-get install libcivetweb-dev).
CIVETWEB_PEER = $(BUILD)/civetweb_peer
$(CIVETWEB_PEER): bench/peers/civetweb/peer.c
	$(CC) $(STD) -O2 -pthread $< -lcivetweb -o $@

# Debian packages: the server needs a C compiler, pkg-config and libcrypto;
# the tests also need Check and python3-websockets (the independent
# WebSocket client).  $(call need,PACKAGES,PROBE): when the shell command
# PROBE fails, root with apt-get gets PACKAGES installed (apt-get update
# first, and saying so); anyone else gets the one command to run.
define need
	@if ! ( $(2) ) >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "make: installing $(1) (apt-get update, then apt-get install)"; \
	    apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null || exit 1; \
	  else \
	    echo "make: missing $(1); install with: sudo apt-get install $(1)" >&2; exit 1; \
	  fi; \
	fi
endef

deps-server:
	$(call need,pkg-config libssl-dev libhiredis-dev libjansson-dev,command -v pkg-config && pkg-config --exists libcrypto hiredis jansson)

# redis-server: the Redis suite starts real ones (never skipped quietly);
# prometheus: its promtool checks /metrics.
deps-test: deps-server
	$(call need,check python3 python3-websockets redis-server prometheus,pkg-config --exists check && /usr/bin/python3 -c 'import websockets' && test -x /usr/bin/redis-server && test -x /usr/bin/promtool)

run: $(PUSHQ)
	$(PUSHQ) --host 127.0.0.1 --port 8000 --www www

# The integration tests start $(PUSHQ); PUSHQ_BIN tells them which build.
test: check-layers check-excerpts check-install $(PUSHQ) $(TESTS)
	PUSHQ_BIN=$(PUSHQ) PUSHQ_WWW=www $(TESTS)

# Every excerpt in the pages' code panels (www/code.js) still stands, line
# for line, in the file its title names (Node's own test runner, no npm).
check-excerpts:
	$(call need,nodejs,command -v node)
	@node --test test/e2e/excerpts.test.mjs 2>&1 | grep -E '^# (pass|fail)|not ok|Error' ; test $${PIPESTATUS[0]} -eq 0

# The layers' rule (docs/design.md, "Layers"): an #include that points the
# wrong way fails the build's tests.  It tests itself first.
check-layers:
	@python3 test/check_layers.py --self-test
	@python3 test/check_layers.py

# libFuzzer targets for everything in http/ (test/fuzz/): the request
# parser, the WebSocket decoder with the UTF-8 validator, the decoders,
# the token verifier.
# Each runs FUZZ_SECONDS from the seed corpus in the tree; what it learns
# stays in build/fuzz/.  Needs clang and its fuzzer runtime.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS  = parser ws decode jwt
FUZZ_FLAGS    = $(STD) -g -O1 -I. -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all -fno-omit-frame-pointer

deps-fuzz:
	$(call need,clang libclang-rt-14-dev,echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' | clang -x c -fsanitize=fuzzer - -o /dev/null)

$(BUILD)/fuzz/fuzz_%: test/fuzz/fuzz_%.c test/fuzz/fuzz_common.h $(wildcard http/*.c http/*.h) | deps-fuzz deps-server
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) $(CRYPTO_CFLAGS) $(JANSSON_CFLAGS) $< $(wildcard http/*.c) $(CRYPTO_LIBS) $(JANSSON_LIBS) -o $@

fuzz: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(BUILD)/fuzz/corpus-$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  $(BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=$(BUILD)/fuzz/crash-$$t- \
	    $(BUILD)/fuzz/corpus-$$t test/fuzz/corpus/$$t 2>&1 | \
	    grep -E "^(stat::number_of_executed_runs|stat::peak_rss_mb)|ERROR|SUMMARY|Done" ; \
	  test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done

# The attacks that once hurt pushq, each asserting its bound (test/check_stress.c).
stress: $(PUSHQ) $(TESTS)
	CK_RUN_SUITE=stress PUSHQ_BIN=$(PUSHQ) PUSHQ_WWW=www $(TESTS)

# The pages in headless Debian chromium (apt-get install chromium nodejs;
# npm fetches playwright-core into test/e2e/node_modules once).
e2e: $(PUSHQ)
	@test -x /usr/bin/chromium || { echo "chromium is missing: apt-get install chromium" >&2; exit 1; }
	@test -d test/e2e/node_modules/playwright-core || (cd test/e2e && npm ci --no-audit --no-fund)
	cd test/e2e && PUSHQ_BIN=$(PUSHQ) node --test --test-concurrency=1 pages.test.mjs lab.test.mjs teach.test.mjs excerpts.test.mjs client_logic.test.mjs client.test.mjs

# The pages over https:// behind nginx with docs/nginx.conf as it is
# (apt-get install nginx openssl chromium).
e2e-tls: $(PUSHQ)
	$(call need,nginx openssl,test -x /usr/sbin/nginx && command -v openssl)
	@test -x /usr/bin/chromium || { echo "chromium is missing: apt-get install chromium" >&2; exit 1; }
	@test -d test/e2e/node_modules/playwright-core || (cd test/e2e && npm ci --no-audit --no-fund)
	cd test/e2e && PUSHQ_BIN=$(PUSHQ) node --test --test-concurrency=1 tls.test.mjs

# Sanitized code is slower: Check's per-test timeouts are stretched to match.
# ASan keeps freed memory in a quarantine (256 MB by default) to catch late
# uses; 64 MB still catches them, and lets the stress suite's memory bound
# measure the server rather than the quarantine.
asan:
	ASAN_OPTIONS=detect_leaks=1:quarantine_size_mb=64 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	CK_TIMEOUT_MULTIPLIER=4 $(MAKE) BUILD=build/asan SANITIZER=address OPT=-O1 test

tsan:
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	CK_TIMEOUT_MULTIPLIER=4 $(MAKE) BUILD=build/tsan SANITIZER=thread OPT=-O1 test

valgrind: $(PUSHQ) $(TESTS)
	CK_FORK=no CK_DEFAULT_TIMEOUT=120 PUSHQ_BIN=$(PUSHQ) PUSHQ_WWW=www \
	  valgrind --error-exitcode=1 --leak-check=full $(TESTS)

# The whole suite (~15 min) and a two-minute subset: pushq against nginx,
# civetweb, the seed's Django app, Node's ws, nchan (libnginx-mod-nchan) and
# Pushpin (pushpin), in the same run (a peer not installed is skipped with a
# note), and both floors of thread-per-connection; a table on
# stdout, build/bench/report.md and build/bench/fanout.svg.
bench: $(PUSHQ) $(FANOUT) $(QUEUE_BENCH) $(WAKEUP_FLOOR) $(SOCKET_FLOOR)
	@test -f /usr/include/civetweb.h && $(MAKE) --no-print-directory $(CIVETWEB_PEER) || true
	bench/run.sh full $(BUILD)

bench-quick: $(PUSHQ) $(FANOUT) $(QUEUE_BENCH) $(WAKEUP_FLOOR) $(SOCKET_FLOOR)
	@test -f /usr/include/civetweb.h && $(MAKE) --no-print-directory $(CIVETWEB_PEER) || true
	bench/run.sh quick $(BUILD)

bench-queue: $(QUEUE_BENCH)
	$(QUEUE_BENCH) --python bench/queue_bench.py

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(BUILD)/installed/main.d $(BUILD)/obj/bench/queue_bench.d $(BUILD)/obj/bench/fanout.d $(BUILD)/obj/bench/socket_floor.d $(BUILD)/obj/bench/wakeup_floor.d
