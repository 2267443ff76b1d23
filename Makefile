# VND — build, test, demo.  Plain Make; see README.md.
#
#   make            programs into build/ (vnd, vnd-tabled, vnd-controld)
#   make check      install test deps, build normal + sanitizer, run the suite
#   make demo       install deps, build, run the diagnosis story
#   make fuzz       libFuzzer targets into build-fuzz/
#   make SAN=1      address+undefined sanitizer build into build-san/
#   make TSAN=1     thread sanitizer build into build-tsan/ (make check
#                   runs the multi-threaded tests on it)
#   make install    programs, units, man pages, docs under PREFIX (/usr/local)
#                   inside DESTDIR; make uninstall removes them (docs/packaging.md)
#   make package-check  build the Debian packages, install, run, purge them (root)

CC      ?= cc
SAN     ?=
TSAN    ?=
ifeq ($(SAN),1)
BUILD   ?= build-san
OPT     := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else ifeq ($(TSAN),1)
BUILD   ?= build-tsan
OPT     := -O1 -fsanitize=thread -fno-omit-frame-pointer
else
BUILD   ?= build
OPT     := -O2 -D_FORTIFY_SOURCE=2
endif

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wformat=2 -Wno-format-nonliteral -Wvla
CFLAGS  ?=
CPPFLAGS += -Isrc -D_GNU_SOURCE
ALLCFLAGS = -std=c11 -g $(OPT) $(WARN) $(CFLAGS) $(shell pkg-config --cflags libpq 2>/dev/null)
LDLIBS  := -lpcap -lsqlite3 -ljansson -lmicrohttpd -lcurl -lpq -lcrypto -lm -lpthread

# The library: every folder under src/ except the programs' and the SQLite
# extension's.
PROG_DIRS := src/cli src/tabled src/controld src/ext
LIB_SRCS  := $(filter-out $(addsuffix /%,$(PROG_DIRS)),$(wildcard src/*/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIB       := $(BUILD)/libvnd.a

VND_SRCS    := $(wildcard src/cli/*.c)
TABLED_SRCS := $(wildcard src/tabled/*.c)
CONTROLD_SRCS := $(wildcard src/controld/*.c)
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
UNIT_BINS   := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRCS   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/tests/replay_%)
TOOL_SRCS   := $(wildcard tests/golden/*.c)
TOOL_BINS   := $(TOOL_SRCS:tests/golden/%.c=$(BUILD)/tests/golden_%)
# programs the integration tests drive library modules with
TESTTOOL_SRCS := $(wildcard tests/tools/*.c)
TESTTOOL_BINS := $(TESTTOOL_SRCS:tests/tools/%.c=$(BUILD)/tests/tool_%)
BENCH_SRCS  := $(wildcard bench/*.c)
BENCH_BINS  := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

PROGS := $(BUILD)/vnd $(BUILD)/vnd-tabled $(BUILD)/vnd-controld

# SQLite's loadable extension that reads packed tables (src/ext/): its own
# position-independent objects, and never a sanitizer's, as the programs
# that load it (SQLite's shell) have none.
EXT      := $(BUILD)/vnd_packed.so
EXT_SRCS := src/ext/vnd_packed_ext.c src/store/packed_vtab.c src/store/packed.c src/util/util.c \
            src/fields/registry.c
EXT_OBJS := $(EXT_SRCS:%.c=$(BUILD)/obj-ext/%.o)

all: $(PROGS) $(EXT) $(UNIT_BINS) $(FUZZ_REPLAY) $(BENCH_BINS) $(TOOL_BINS) $(TESTTOOL_BINS) www

# The web console's chart library, uPlot, from the npm registry at the
# version www/package-lock.json pins, copied into www/vendor/ (served by
# vnd-controld; docs/console.md).  Without npm the console says so where a
# chart would be.
WWW_VENDOR := www/vendor/uPlot.esm.js
www: $(WWW_VENDOR)
$(WWW_VENDOR): www/package.json www/package-lock.json
	@if command -v npm >/dev/null; then \
	  echo "  NPM www/vendor (uplot)"; \
	  cd www && npm ci --no-audit --no-fund --ignore-scripts --silent && mkdir -p vendor && \
	  cp node_modules/uplot/dist/uPlot.esm.js node_modules/uplot/dist/uPlot.min.css vendor/ && \
	  cp node_modules/uplot/LICENSE vendor/uPlot.LICENSE.txt; \
	else echo "  (npm is not installed: no charts in the web console; make www)"; fi

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC  $<"
	@$(CC) $(CPPFLAGS) $(ALLCFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj-ext/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC  $< (extension)"
	@$(CC) $(CPPFLAGS) -DVND_SQLITE_EXTENSION -std=c11 -g -O2 $(WARN) $(CFLAGS) -fPIC -fvisibility=hidden -MMD -MP \
	    -c $< -o $@

$(EXT): $(EXT_OBJS)
	@echo "  LD  $@"
	@$(CC) -shared $(CFLAGS) -fPIC -Wl,-z,defs $^ -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/vnd: $(VND_SRCS:%.c=$(BUILD)/obj/%.o) $(LIB)
	@echo "  LD  $@"
	@$(CC) $(ALLCFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/vnd-tabled: $(TABLED_SRCS:%.c=$(BUILD)/obj/%.o) $(LIB)
	@echo "  LD  $@"
	@$(CC) $(ALLCFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/vnd-controld: $(CONTROLD_SRCS:%.c=$(BUILD)/obj/%.o) $(LIB)
	@echo "  LD  $@"
	@$(CC) $(ALLCFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB)
	@mkdir -p $(@D)
	@echo "  LD  $@"
	@$(CC) $(ALLCFLAGS) $^ $(LDLIBS) -o $@

# Fuzz targets replayed on their stored inputs by a plain main().
$(BUILD)/tests/replay_%: $(BUILD)/obj/tests/fuzz/%.o $(BUILD)/obj/tests/fuzz/replay_main.o $(LIB)
	@mkdir -p $(@D)
	@echo "  LD  $@"
	@$(CC) $(ALLCFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/obj/tests/fuzz/replay_main.o: tests/fuzz/replay_main.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) -c $< -o $@

$(BUILD)/tests/golden_%: $(BUILD)/obj/tests/golden/%.o $(LIB)
	@mkdir -p $(@D)
	@echo "  LD  $@"
	@$(CC) $(ALLCFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/tool_%: $(BUILD)/obj/tests/tools/%.o $(LIB)
	@mkdir -p $(@D)
	@echo "  LD  $@"
	@$(CC) $(ALLCFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIB)
	@mkdir -p $(@D)
	@echo "  LD  $@"
	@$(CC) $(ALLCFLAGS) $^ $(LDLIBS) -o $@

san:
	$(MAKE) SAN=1

# libFuzzer builds: clang, fuzzer+address+undefined, into build-fuzz/.
FUZZ_BUILD := build-fuzz
FUZZ_BINS  := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_BUILD)/fuzz/%)
fuzz:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang OPT="-O1 -fsanitize=fuzzer-no-link,address,undefined" $(FUZZ_BUILD)/libvnd.a
	$(MAKE) fuzz-targets

fuzz-targets: $(FUZZ_BINS)

# (the library is made by `make fuzz` above, with clang and the fuzzer's flags)
$(FUZZ_BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_BUILD)/libvnd.a
	@mkdir -p $(@D)
	clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined $(CPPFLAGS) $< \
	    $(FUZZ_BUILD)/libvnd.a $(LDLIBS) -o $@

deps:
	scripts/install-deps.sh

# The builds of make check use every CPU (the suite's time budget).
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)

check: deps
	$(MAKE) -j$(JOBS) all
	$(MAKE) -j$(JOBS) SAN=1 all
	$(MAKE) -j$(JOBS) TSAN=1 all
	$(MAKE) -j$(JOBS) fuzz
	tests/run.sh

demo: deps all
	$(BUILD)/vnd demo

bench: all
	bench/run.sh

clean:
	rm -rf build build-san build-fuzz

# Installation: dist/install.sh does the copying (docs/packaging.md).
PREFIX  ?= /usr/local
install: $(PROGS) $(EXT)
	BUILD=$(BUILD) PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) dist/install.sh install
uninstall:
	BUILD=$(BUILD) PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) dist/install.sh uninstall
package-check:
	scripts/package-check.sh

.PHONY: all san fuzz fuzz-targets deps check demo bench clean install uninstall package-check www
-include $(shell find $(BUILD)/obj $(BUILD)/obj-ext -name '*.d' 2>/dev/null)
.SECONDARY:
