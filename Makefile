# mlistd — build, test, run, install.
#
#   make            build the library, mlistd and mlistctl
#   make check      install missing Debian packages, build with -Werror, run every test
#   make run        install missing packages, build, create the demo and run the daemon
#   make install    PREFIX (default /usr/local) and DESTDIR honoured
#   make asan       the same tests built with AddressSanitizer/UBSan (build-asan/)
#   make fuzz       build the libFuzzer harnesses of tests/fuzz/ with clang
#                   (build-fuzz/) and run each for FUZZ_SECONDS (default 60)
#
# Library sources are every mlistd/*.c except the two programs' own files
# (mlistd.c, mlistctl*.c); tests are tests/unit/test_*.c, one binary each.

PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    ?= build
CC       ?= cc
CXX      ?= c++
PKGS     := libesmtp-1.0 gmime-3.0 sqlite3 libctemplate vips
WERROR   ?= -Werror
WARN     := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wno-unused-parameter $(WERROR)
OPT      ?= -O2 -g
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libvips is opened at run time by image.c, not linked (see there).
PKG_LIBS   := $(shell pkg-config --libs $(filter-out vips,$(PKGS)) 2>/dev/null)
CPPFLAGS += -DMLISTD_VERSION='"0.1"' -D_GNU_SOURCE -DMLISTD_PREFIX='"$(PREFIX)"' -Imlistd
CFLAGS   += -std=c11 $(OPT) $(WARN) $(PKG_CFLAGS) -pthread -MMD -MP
CXXFLAGS += -std=c++11 $(OPT) -Wall -Wextra $(WERROR) $(PKG_CFLAGS) -pthread -MMD -MP
# libetpan: plain -letpan (its pkg-config output injects no-PIE link specs).
LDLIBS   += $(PKG_LIBS) -letpan -lgnutls -lstdc++ -pthread -ldl -lresolv
# interpose.c: libesmtp must find these in the executable (relay_selftest()
# checks that it does, at start-up and in mlistd -n). In LDLIBS, which no
# target overrides (make asan sets LDFLAGS).
LDLIBS   += -Wl,--export-dynamic-symbol=poll,--export-dynamic-symbol=connect \
            -Wl,--export-dynamic-symbol=write

LIB_C    := $(filter-out mlistd/mlistd.c mlistd/mlistctl%.c,$(wildcard mlistd/*.c))
LIB_CC   := $(wildcard mlistd/*.cc)
LIB_OBJ  := $(LIB_C:%.c=$(BUILD)/obj/%.o) $(LIB_CC:%.cc=$(BUILD)/obj/%.o)
CTL_OBJ  := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard mlistd/mlistctl*.c))
D_OBJ    := $(BUILD)/obj/mlistd/mlistd.o
LIB      := $(BUILD)/libmlistd.a
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
STUB_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/unit/stub_*.c)) \
            $(BUILD)/obj/tests/unit/testlib.o
# Fuzz harnesses: tests/fuzz/fuzz_NAME.c. Built normally with replay.c as
# test_fuzz_NAME (make check replays tests/fuzz/corpus/NAME/ once), and with
# clang and libFuzzer by make fuzz.
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAY  := $(FUZZ_NAMES:%=$(BUILD)/tests/test_fuzz_%)
FUZZ_BIN     := $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_OBJ     := $(FUZZ_NAMES:%=$(BUILD)/obj/tests/fuzz/fuzz_%.o) \
                $(FUZZ_NAMES:%=$(BUILD)/obj/tests/fuzz/replay_%.o) $(BUILD)/obj/tests/fuzz/fuzzlib.o
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

DEB_PKGS := build-essential pkg-config libesmtp-dev libgmime-3.0-dev libsqlite3-dev \
            libetpan-dev libgnutls28-dev libctemplate-dev libcmocka-dev postfix swaks dovecot-imapd \
            dovecot-pop3d mlmmj weasyprint openssl sqlite3 python3 libvips-dev libvips-tools \
            imagemagick libimage-exiftool-perl clang libclang-rt-14-dev fonts-noto-color-emoji \
            libheif1 libde265-0 libheif-dev
# libheif1 + libde265-0: HEIC photos (Debian 12; from 13 the HEVC decoder is
# libheif-plugin-libde265); libheif-dev: test_heic.sh makes its HEIC with it.

.SECONDARY: $(FUZZ_OBJ)
.PHONY: all check unit integration run deps install clean demo asan fuzz fuzz-bins
all: $(BUILD)/mlistd $(BUILD)/mlistctl

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@
$(BUILD)/obj/%.o: %.cc
	@mkdir -p $(@D)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c $< -o $@
$(LIB): $(LIB_OBJ)
	rm -f $@; ar rcs $@ $^
$(BUILD)/mlistd: $(D_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/mlistctl: $(CTL_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(STUB_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka
$(FUZZ_NAMES:%=$(BUILD)/obj/tests/fuzz/replay_%.o): $(BUILD)/obj/tests/fuzz/replay_%.o: tests/fuzz/replay.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -DFUZZ_NAME='"$*"' $(CFLAGS) -c $< -o $@
$(BUILD)/tests/test_fuzz_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(BUILD)/obj/tests/fuzz/replay_%.o \
    $(BUILD)/obj/tests/fuzz/fuzzlib.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/fuzz/fuzz_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(BUILD)/obj/tests/fuzz/fuzzlib.o $(LIB)
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# deps: install what is missing, nothing when everything is there.
deps:
	@./contrib/deps.sh $(DEB_PKGS)

check: deps
	$(MAKE) all $(UNIT_BIN) $(FUZZ_REPLAY)
	./tests/run-tests.sh $(BUILD)

unit: all $(UNIT_BIN) $(FUZZ_REPLAY)
	./tests/run-tests.sh $(BUILD) unit
integration: all
	./tests/run-tests.sh $(BUILD) integration

# LeakSanitizer's tracer crashes (signal 11) scanning a libvips that image.c
# opened with dlopen; the sanitizer builds (asan, fuzz) link it instead, and
# image.c's dlopen then finds it already loaded. Release builds do not link it.
ASAN_VIPS := -Wl,--no-as-needed $(shell pkg-config --libs vips 2>/dev/null) -Wl,--as-needed
asan:
	$(MAKE) BUILD=build-asan WERROR= OPT='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer' \
	    LDFLAGS='-fsanitize=address,undefined $(ASAN_VIPS)' check

# fuzz: the library, the harnesses and libFuzzer built by clang in
# $(FUZZ_BUILD) (objects with -fsanitize=fuzzer-no-link, every sanitizer
# report fatal), then each harness run for FUZZ_SECONDS from its corpus.
fuzz: deps
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang CXX=clang++ WERROR= \
	    OPT='-O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link' \
	    LDFLAGS='$(FUZZ_SAN) -fsanitize=fuzzer $(ASAN_VIPS)' fuzz-bins
	./tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)
fuzz-bins: $(FUZZ_BIN)

# run: a new make after deps: pkg-config flags are read when the Makefile is parsed.
run: deps
	$(MAKE) all
	./contrib/demo.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/mlistd \
	    $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 755 $(BUILD)/mlistd $(DESTDIR)$(PREFIX)/sbin/mlistd
	install -m 755 $(BUILD)/mlistctl $(DESTDIR)$(PREFIX)/bin/mlistctl
	cp -R templates $(DESTDIR)$(PREFIX)/share/mlistd/
	install -m 644 contrib/mlistd.conf.sample $(DESTDIR)$(PREFIX)/share/mlistd/
	install -m 644 contrib/man/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 644 contrib/man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/

clean:
	rm -rf $(BUILD) build-asan $(FUZZ_BUILD)

-include $(wildcard $(BUILD)/obj/*/*.d $(BUILD)/obj/*/*/*.d)
