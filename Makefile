# imago: the two commands are `make demo` and `make check` (see README.md).
# Everything else here is a step of those two.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
BUILD     ?= build
ASAN      ?= build-asan
FUZZ      ?= build-fuzz
FUZZ_SECS ?= 15

.PHONY: all deps build build-asan build-fuzz test test-asan lint fuzz check demo bench format clean

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) -- --no-print-directory

build-asan: deps
	@CC=clang cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DIMAGO_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN) -j $(JOBS) -- --no-print-directory

build-fuzz: deps
	@CC=clang cmake -S . -B $(FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIMAGO_FUZZ=ON -DIMAGO_TESTS=OFF >/dev/null
	@cmake --build $(FUZZ) -j $(JOBS) -- --no-print-directory

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) | tee ctest.log

# A sanitized plugin cannot load into the (unsanitized) mosquitto binary: the sanitizer
# run loads the normal build's imago_broker.so into the broker and runs everything else,
# imago-cloud included, sanitized.  The plugin itself runs sanitized in its unit tests.
test-asan: build build-asan
	@cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		IMAGO_PLUGIN=$(CURDIR)/$(BUILD)/imago_broker.so \
		ctest --output-on-failure -j $(JOBS) | tee ctest.log

lint: deps
	@scripts/lint.sh

fuzz: build-fuzz
	@scripts/fuzz.sh $(FUZZ) $(FUZZ_SECS)

check: lint test test-asan fuzz
	@scripts/check-summary.sh $(BUILD)/ctest.log $(ASAN)/ctest.log

demo: build
	@scripts/demo.sh $(BUILD)

bench: build
	@bench/run.sh $(BUILD)

format:
	@git ls-files -co --exclude-standard '*.c' '*.h' | xargs -r clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ)
