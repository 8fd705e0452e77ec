# berth: the two commands a user needs are `make run` and `make check`.
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz

.PHONY: all deps build run check check-unit check-integration check-cgroup2 bench bench-layer format clean

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

# The cgroup v2 suites in a qemu VM: this host's cgroups are hybrid v1/v2.
check-cgroup2: deps build
	@scripts/check-cgroup2.sh $(BUILD)

bench: deps build
	@bench/runtime.sh $(BUILD)
	@bench/pull.sh $(BUILD)

# Layer application against tar -xzf / tar -I zstd -xf (docs/benchmarks.md).
bench-layer: deps build
	@bench/layer-apply.sh $(BUILD) $(BUILD)/bench-layer

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
