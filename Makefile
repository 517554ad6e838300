# Top-level entry points. Every target installs what it needs first.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
DEMO_DIR ?= $(BUILD_DIR)/demo-data
DEMO_LISTEN ?= 127.0.0.1:8740

.PHONY: deps build demo test soak bench clean asan fuzz

deps:
	@bash scripts/setup.sh

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Two organisations' nodes and etcd members in $(DEMO_DIR), org1's node on
# $(DEMO_LISTEN), in the foreground: Ctrl-C stops every process it started.
demo: build
	$(BUILD_DIR)/medledger demo --data-dir $(DEMO_DIR) --listen $(DEMO_LISTEN)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -LE soak --timeout 900

soak: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L soak --timeout 3600

bench: build
	@for b in $(BUILD_DIR)/bench/*_bench; do $$b; done

asan: deps
	cmake -S . -B build-asan -DMEDLEDGER_SANITIZE=ON -DMEDLEDGER_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure -j $(JOBS) -LE soak

clean:
	rm -rf $(BUILD_DIR)

# Open-ended fuzzing with clang's libFuzzer (the same targets run their stored
# corpus under 'make test'). Example: build-fuzz/fuzz/tx_decode_fuzz fuzz/corpus/tx_decode
fuzz: deps
	CXX=clang++ cmake -S . -B build-fuzz -DMEDLEDGER_LIBFUZZER=ON -DMEDLEDGER_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build-fuzz -j $(JOBS) --target tx_decode_fuzz block_decode_fuzz value_decode_fuzz tx_json_fuzz fhir_json_fuzz
