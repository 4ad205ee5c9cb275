# Replica — run `make help` for the list of targets.
SHELL := /bin/bash
GO ?= go
# x86-64-v2 (every x86-64 CPU since 2009) compiles bits.OnesCount64 to one
# POPCNT instruction: feature matching runs 1.7 times faster.
export GOAMD64 ?= v2
BIN := bin
OUT ?= out
# Debian packages the build, tests and demo need. Keep in sync with the README.
DEB_PKGS := colmap libgl1-mesa-dev xorg-dev pkg-config gcc xvfb imagemagick \
	libimage-exiftool-perl admesh prusa-slicer poppler-utils time \
	occt-draw libocct-draw-dev libocct-data-exchange-dev freecad-python3 chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME ?= 60s

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this help
	@awk 'BEGIN{FS=":.*## "} /^[a-zA-Z_-]+:.*## /{printf "  \033[1m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: deps
deps: ## Install the Debian packages and tools Replica needs (only those missing; idempotent)
	@missing=""; for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "deps: all installed"; fi
	@# stripe-mock, Stripe's API mock, for the account/stripe and service tests.
	@command -v stripe-mock >/dev/null || test -x "$$($(GO) env GOPATH)/bin/stripe-mock" || $(GO) install github.com/stripe/stripe-mock@v0.203.0

.PHONY: cli
cli: ## Build the headless CLI (no cgo) into bin/replica-cli
	CGO_ENABLED=0 $(GO) build -o $(BIN)/replica-cli ./cmd/replica

.PHONY: app
app: ## Build the desktop app (cgo + OpenGL) into bin/replica
	$(GO) build -o $(BIN)/replica .

.PHONY: screenshots
screenshots: deps app cli ## Walk the real app through its screens under Xvfb with the real pipeline; PNGs in out/screenshots
	rm -rf $(OUT)/screenshots $(OUT)/screenshots-data
	xvfb-run -a -s "-screen 0 1280x800x24" env REPLICA_DATA=$(abspath $(OUT))/screenshots-data \
		REPLICA_SCREENSHOTS=$(abspath $(OUT))/screenshots $(BIN)/replica
	@ls $(OUT)/screenshots

.PHONY: demo
demo: deps cli ## Generate the built-in sample capture and run everything that exists so far on it
	@echo "== synth: 30 views of the built-in bracket on the scale sheet"
	$(BIN)/replica-cli synth --part bracket --views 30 --markers --out $(OUT)/sample
	@echo "== check: is the sample capture ready to reconstruct?"
	-$(BIN)/replica-cli check $(OUT)/sample --quiet
	@echo "== markers: printable scale sheets"
	$(BIN)/replica-cli markers --paper a4 --out $(OUT)/scale-sheet-a4.pdf
	$(BIN)/replica-cli markers --paper letter --out $(OUT)/scale-sheet-letter.pdf
	@echo "== process: reconstruct the sample with COLMAP on this machine, scale it by the sheet, make it printable (a few minutes on 2 cores; a rerun comes from the cache)"
	$(BIN)/replica-cli process $(OUT)/sample --out $(OUT)/sample-model --quality standard
	@echo "== eval: the reconstruction and the printable model against the sample's ground truth"
	$(BIN)/replica-cli eval $(OUT)/sample-model --truth $(OUT)/sample/groundtruth.json
	@echo
	@echo "Sample capture (30 JPEGs + groundtruth.json + groundtruth.stl + overlap.json): $(abspath $(OUT)/sample)"
	@echo "Reconstruction (report.json, model.stl, model.3mf, model.ply in mm; sparse.ply, dense.ply, mesh.ply): $(abspath $(OUT)/sample-model)"
	@echo "Scale sheets: $(abspath $(OUT))/scale-sheet-a4.pdf, $(abspath $(OUT))/scale-sheet-letter.pdf"

.PHONY: account
account: ## Build the account service (no cgo) into bin/replica-account
	CGO_ENABLED=0 $(GO) build -o $(BIN)/replica-account ./cmd/replica-account

.PHONY: account-serve
account-serve: account ## Run the account service on 127.0.0.1:8080 with out/account.db (billing off unless REPLICA_STRIPE_KEY is set)
	mkdir -p $(OUT)
	$(BIN)/replica-account serve --addr 127.0.0.1:8080 --db $(OUT)/account.db --log text

.PHONY: bench-account
bench-account: account ## Load test: authenticated GET /v1/me on loopback, 20,000 requests; prints req/s and p99 against the budget
	$(BIN)/replica-account bench -n 20000 -c 16

.PHONY: run
run: deps app ## Start the desktop app
	$(BIN)/replica

.PHONY: test
test: ## go vet, every test with the race detector, then the slow capture acceptance tests without it
	$(GO) vet ./...
	$(GO) test -race -timeout 60m ./...
	@# The capture acceptance tests render and decode dozens of full-size photos:
	@# under -race they skip themselves, so they run here without it.
	$(GO) test -count=1 -timeout 30m -run 'Synthetic|Monstree|Duplicate|Isolated' ./capture/
	@# The COLMAP integration tests skip the CPU dense stage under -race (tenfold slower):
	@# here they run it.
	$(GO) test -count=1 -timeout 30m -run 'TestStagesWithColmap|TestProcessCommand|TestProcessWithoutMarkers' ./pipeline/local/ ./cmd/replica/

.PHONY: test-short
test-short: ## Quick tests only (skips the colmap integration tests)
	$(GO) test -short ./...

.PHONY: lint
lint: ## gofmt, go vet and staticcheck
	@bad=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$bad" ]; then echo "gofmt needed: $$bad"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

.PHONY: bench
bench: ## Run the Go benchmarks (synth rendering, codecs)
	$(GO) test -run '^$$' -bench . -benchmem ./pipeline/...

.PHONY: bench-synth
bench-synth: cli ## Time `replica synth`: 30 views at 1600x1200 against the 30 s budget (2 cores)
	@rm -rf $(OUT)/bench-synth; start=$$EPOCHREALTIME; \
	$(BIN)/replica-cli synth --part bracket --views 30 --width 1600 --height 1200 --quiet --out $(OUT)/bench-synth >/dev/null || exit 1; \
	end=$$EPOCHREALTIME; \
	awk -v s=$$start -v e=$$end -v c=$$(nproc) 'BEGIN{t=e-s; printf "synth 30 views 1600x1200 on %d cores: %.1f s; budget 30 s; ratio %.2f\n", c, t, t/30}'

MONSTREE ?= ../shared/datasets/monstree
.PHONY: bench-check
bench-check: cli ## Time `replica check` on monstree (12 MP) and on a 40-photo set made from it, against the budgets and COLMAP's CPU SIFT
	@if [ ! -d "$(MONSTREE)" ]; then echo "bench-check: $(MONSTREE) not found (set MONSTREE=DIR)"; exit 1; fi
	@command -v convert >/dev/null || { echo "bench-check: needs ImageMagick's convert (make deps)"; exit 1; }
	@n=$$(ls $(MONSTREE)/*.JPG | wc -l); rm -rf $(OUT)/bench-check; mkdir -p $(OUT)/bench-check/forty; \
	ls $(MONSTREE)/*.JPG | head -2 | xargs -n1 basename > $(OUT)/bench-check/list.txt; \
	cp $(MONSTREE)/*.JPG $(OUT)/bench-check/forty/; chmod u+w $(OUT)/bench-check/forty/*; \
	for f in $$(ls $(MONSTREE)/*.JPG | head -$$((40-n))); do \
		convert $$f -gravity center -crop 88%x88%+0+0 +repage -resize 4032x3024! -quality 92 \
			$(OUT)/bench-check/forty/$$(basename $$f .JPG)b.JPG || exit 1; \
	done; \
	$(BIN)/replica-cli check $(MONSTREE) --no-graph --quiet >/dev/null; \
	s=$$EPOCHREALTIME; $(BIN)/replica-cli check $(MONSTREE) --no-graph --quiet >/dev/null; e=$$EPOCHREALTIME; \
	f0=$$EPOCHREALTIME; $(BIN)/replica-cli check $(OUT)/bench-check/forty --no-graph --quiet >/dev/null; f1=$$EPOCHREALTIME; \
	c0=$$EPOCHREALTIME; colmap feature_extractor --database_path $(OUT)/bench-check/db.db --image_path $(MONSTREE) \
		--image_list_path $(OUT)/bench-check/list.txt --SiftExtraction.use_gpu 0 >/dev/null 2>&1 || exit 1; c1=$$EPOCHREALTIME; \
	awk -v s=$$s -v e=$$e -v f0=$$f0 -v f1=$$f1 -v c0=$$c0 -v c1=$$c1 -v n=$$n -v p=$$(nproc) 'BEGIN{ t=e-s; c=(c1-c0)/2; f=f1-f0; \
		printf "replica check, %d photos of 12 MP on %d cores: %.1f s (%.2f s a photo)\n", n, p, t, t/n; \
		printf "replica check, 40 photos of 12 MP (monstree + %d crops of it) on %d cores: %.1f s; budget 10 s; ratio %.2f\n", 40-n, p, f, f/10; \
		printf "colmap feature_extractor (CPU SIFT): %.1f s a photo\n", c; \
		printf "ratio: check is %.1fx faster a photo (budget: at least 15x)\n", c/(t/n) }'

.PHONY: bench-dense
bench-dense: cli ## Time the CPU dense stage (pipeline/mvs, standard) on a 30-view sample and measure it against the truth (budget 180 s, 4 GB)
	@command -v colmap >/dev/null || { echo "bench-dense: needs colmap (make deps)"; exit 1; }
	@set -e; b=$(OUT)/bench-dense; mkdir -p $$b; \
	test -f $$b/capture/groundtruth.json || $(BIN)/replica-cli synth --part bracket --views 30 --quiet --out $$b/capture >/dev/null; \
	rm -rf $$b/run/stages/dense $$b/run/stages/mesh; \
	/usr/bin/time -f '%e %M' -o $$b/run.time $(BIN)/replica-cli process $$b/capture --out $$b/run --quality standard --cpu --quiet | grep '^Dense'; \
	read t m < $$b/run.time; \
	awk -v m=$$m -v p=$$(nproc) 'BEGIN{ printf "peak memory of the whole process %.2f GB on %d cores (budget 4 GB; dense stage budget 180 s)\n", m/1048576, p }'; \
	$(BIN)/replica-cli eval $$b/run --truth $$b/capture/groundtruth.json | grep -A1 '^Dense'

.PHONY: bench-sfm
bench-sfm: cli ## Time `replica process` against `colmap automatic_reconstructor` (CPU) on a synthetic 30-view set; SFM_SET=DIR for another set
	@command -v colmap >/dev/null || { echo "bench-sfm: needs colmap (make deps)"; exit 1; }
	@set -e; b=$(OUT)/bench-sfm; rm -rf $$b; mkdir -p $$b; \
	set="$(SFM_SET)"; if [ -z "$$set" ]; then set=$$b/capture; \
		$(BIN)/replica-cli synth --part bracket --views 30 --quiet --out $$set >/dev/null; fi; \
	/usr/bin/time -f '%e %M' -o $$b/ours.time $(BIN)/replica-cli process $$set --out $$b/ours --quality standard --quiet >/dev/null; \
	mkdir -p $$b/colmap; \
	/usr/bin/time -f '%e %M' -o $$b/colmap.time colmap automatic_reconstructor --workspace_path $$b/colmap --image_path $$set \
		--use_gpu 0 --dense 0 > $$b/colmap.log 2>&1; \
	best=$$(for m in $$b/colmap/sparse/*/; do n=$$(colmap model_analyzer --path $$m 2>&1 | sed -n 's/.*Registered images: *//p'); echo "$$n $$m"; done | sort -n | tail -1); \
	creg=$${best%% *}; cerr=$$(colmap model_analyzer --path $${best#* } 2>&1 | sed -n 's/.*Mean reprojection error: *\([0-9.]*\).*/\1/p'); \
	oreg=$$(sed -n 's/.*"registered": *\([0-9]*\).*/\1/p' $$b/ours/report.json); \
	oerr=$$(sed -n 's/.*"mean_reprojection_error_px": *\([0-9.]*\).*/\1/p' $$b/ours/report.json); \
	n=$$(sed -n 's/.*"photos": *\([0-9]*\).*/\1/p' $$b/ours/report.json); \
	read ot om < $$b/ours.time; read ct cm < $$b/colmap.time; \
	awk -v ot=$$ot -v om=$$om -v ct=$$ct -v cm=$$cm -v or=$$oreg -v oe=$$oerr -v cr=$$creg -v ce=$$cerr -v n=$$n -v p=$$(nproc) 'BEGIN{ \
		printf "%d photos on %d cores\n", n, p; \
		printf "replica process:                 %6.0f s, peak %5.2f GB, %d registered, mean reprojection error %.2f px\n", ot, om/1048576, or, oe; \
		printf "colmap automatic_reconstructor:  %6.0f s, peak %5.2f GB, %d registered, mean reprojection error %.2f px\n", ct, cm/1048576, cr, ce; \
		printf "speed-up %.2fx (budget: at least 3x, as many registered, error at most 1.0 px, peak memory no higher)\n", ct/ot }'

.PHONY: fuzz
fuzz: ## Run every fuzzer for FUZZTIME each (default 60s)
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

.PHONY: clean
clean: ## Remove build outputs and demo outputs
	rm -rf $(BIN) $(OUT)
