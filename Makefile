# berth: the two commands a user needs are `make run` and `make check`.
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz

.PHONY: all deps build run check check-unit check-integration bench format clean

all: build

deps:
	@scripts/install-deps.sh all

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: deps build
	@scripts/run-demo.sh $(BUILD)

check: deps
	@scripts/check.sh

bench: deps build
	@bench/runtime.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
