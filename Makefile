# Thin wrapper over CMake: the two README commands and the usual targets.
BUILD   ?= build
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX  ?= /usr/local
CMAKE_FLAGS ?=

.PHONY: all deps build run test test-asan test-clang test-portable ci install package clean web serve

all: build

deps:
	@bash scripts/install-deps.sh

build:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS) > /dev/null
	cmake --build $(BUILD) -j $(JOBS)

# Train the default model on Fashion-MNIST and print the test accuracy.
run: deps
	@$(MAKE) --no-print-directory build
	$(BUILD)/cgrad train

test: deps
	@$(MAKE) --no-print-directory build CMAKE_FLAGS="-DCG_WERROR=ON"
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer. The
# Fashion-MNIST accuracy runs (CG_TEST_QUICK) are left to `make test`: they
# take the same code paths as the small runs, ten times slower under ASan.
# Built without MPI: that checks the single-process build, and OpenMPI's own
# allocations would drown LeakSanitizer's report. fp32 products on OpenBLAS
# (CG_GEMM=openblas): `make test` runs them through oneDNN, so this is where
# the suite covers the OpenBLAS path of a build without oneDNN (bf16 still
# runs through oneDNN here).
test-asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCG_SANITIZE=ON -DCG_WERROR=ON -DCG_MPI=OFF \
	  -DCG_WEB_TEST=OFF
	cmake --build build-asan -j $(JOBS)
	cd build-asan && CG_GEMM=openblas CG_TEST_QUICK=1 ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS)

# Warning-free under clang too (-Werror makes a warning a failure).
test-clang: deps
	cmake -S . -B build-clang -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=clang -DCG_WERROR=ON
	cmake --build build-clang -j $(JOBS)

# The portable build, the browser's (no BLAS: src/ops/gemm_portable.c; no
# OpenMP, as in WebAssembly; no oneDNN, so the suite runs without bf16):
# the suite but the Fashion-MNIST accuracy runs (CG_TEST_QUICK), which take
# the same code paths as the small runs and would dominate CI time here. The browser test runs in `make test`.
test-portable: deps
	cmake -S . -B build-portable -DCMAKE_BUILD_TYPE=Release -DCG_BLAS=OFF -DCG_OPENMP=OFF -DCG_DNNL=OFF \
	  -DCG_WERROR=ON -DCG_WEB_TEST=OFF
	cmake --build build-portable -j $(JOBS)
	cd build-portable && CG_TEST_QUICK=1 ctest --output-on-failure -j $(JOBS)

ci: test test-clang test-asan test-portable

# The playground: build/web/ (static files: HTML, JS, CSS, the .wasm),
# compiled by Debian's emscripten (scripts/build-web.sh).
web: deps
	bash scripts/build-web.sh

# cgrad (wasm) vs TensorFlow.js's WASM backend in headless Chromium;
# writes build/web-bench/result.json (bench/web/README.md). Not a test.
.PHONY: bench-web
bench-web: deps
	bash bench/web/run.sh

# Serve build/web/ on http://localhost:8000 (any static server will do;
# a page opened as a file cannot start its Web Worker).
serve: web
	cd build/web && python3 -m http.server 8000

# docs/cli.md from the commands' flag tables (a test checks it is current).
.PHONY: docs
docs: build
	$(BUILD)/cgrad help --markdown > docs/cli.md

# The libraries (shared and static), cgrad.h, cgrad.pc, the CMake package,
# the command and its man page into PREFIX (default /usr/local).
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# A .deb of the same (CPack), in $(BUILD)/cgrad_VERSION_ARCH.deb.
package: build
	cd $(BUILD) && cpack -G DEB

clean:
	rm -rf $(BUILD) build-asan build-clang build-fuzz

# Fuzz the data loaders and the safetensors parser (libFuzzer, clang):
# FUZZ_SECONDS in all (default 100); see scripts/fuzz.sh.
.PHONY: fuzz
fuzz: deps
	bash scripts/fuzz.sh

# cgrad against PyTorch and the GEMM roofline (bench/run.sh); writes
# bench/RESULTS.md. Not part of the tests.
.PHONY: bench
bench: deps
	bash bench/run.sh build-bench
