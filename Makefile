# The two commands that matter: `make demo` and `make test`. Everything installs itself.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
COLLECTIONS := collections
SIM_PORT ?= 9440
VCENTER_PORT ?= 9443
MOVE_PORT ?= 9444
APP_PORT ?= 8080
GUEST_SSH_PORT ?= 2222
GUEST_HTTP_PORT ?= 8880
SIM_VMS ?= 300
PYTEST_ARGS ?=
# Test processes per pytest stage (pytest-xdist; a module stays on one worker, each worker starts its own
# simulator). The suites mostly wait, on simulated Prism tasks and ansible-playbook, so twice the cores,
# at most 8 (each worker starts its own simulator, PostgreSQL server and browser).
WORKERS ?= $(shell n=$$(( $$(nproc) * 2 )); echo $$(( n > 8 ? 8 : n )))
XDIST := -n $(WORKERS) --dist loadfile
BENCH ?=

.PHONY: demo demo-patch test system venv collection unit contract integration app security browser ruff sanity lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

# The collection as Ansible sees it, built with build_ignore applied, in a local collections path.
collection: $(STAMP)
	scripts/install-collection.sh $(COLLECTIONS) $(VENV)

# The guest gateway needs sshd and the SSH client: make system installs what is missing (idempotent).
demo: system collection
	@echo
	@echo "  Starting the Prism Central, vCenter and Move simulators (VMs on 127.0.0.0/8), the guest gateway and its sshd,"
	@echo "  and the self-service app with demo users (loopback only)."
	@echo "  for the collection:  export NUTANIX_HOST=127.0.0.1 NUTANIX_PORT=$(SIM_PORT) NUTANIX_USERNAME=admin \\"
	@echo "                         NUTANIX_PASSWORD=Nutanix.123 NUTANIX_CA_PATH=$(CURDIR)/.demo/sim/sim-cert.pem"
	$(BIN)/day2ops demo --port $(APP_PORT) --sim-port $(SIM_PORT) --vcenter-port $(VCENTER_PORT) \
		--move-port $(MOVE_PORT) --vm-count $(SIM_VMS) --guest-ssh-port $(GUEST_SSH_PORT) \
		--guest-http-port $(GUEST_HTTP_PORT) --dir .demo

# With `make demo` running: the Patch VMs safely item through the app (olivia asks, alex approves) over
# HR's test app tier, one VM made to break; prints each VM's outcome, and the run is in the app's history.
demo-patch: $(STAMP)
	$(BIN)/python -m day2ops_cli.demo_patch --app http://127.0.0.1:$(APP_PORT) --sim https://127.0.0.1:$(SIM_PORT) \
		--ca .demo/sim/sim-cert.pem --break hr-portal-tst-app-141

# The whole suite on a fresh machine: the system packages it needs (sshd, PostgreSQL, Chromium, Java...),
# then every stage, each timed; the table of stage times is printed at the end, also after a failure.
test: system $(STAMP)
	MAKE="$(MAKE)" WORKERS=$(WORKERS) scripts/test-stages.sh ruff unit contract integration app security browser sanity lint

# Debian packages the tests start or drive themselves; installs only what is missing (no apt when none is).
system:
	bash scripts/system-packages.sh

ruff: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check extensions tests scripts

unit: $(STAMP)
	$(BIN)/pytest tests/unit $(XDIST) $(PYTEST_ARGS)

# The official SDKs against the simulator: the venv's releases, then those that define v4.0.
contract: $(STAMP)
	$(BIN)/pytest tests/contract $(XDIST) $(PYTEST_ARGS)
	DAY2OPS_SDK_RELEASES=v4.0 $(BIN)/pytest tests/contract $(XDIST) $(PYTEST_ARGS)

integration: $(STAMP)
	$(BIN)/pytest tests/integration $(XDIST) $(PYTEST_ARGS)

# The self-service app as a real process: runs, approvals, schedules, the store on SQLite and PostgreSQL.
app: $(STAMP)
	$(BIN)/pytest tests/app $(XDIST) $(PYTEST_ARGS)

# The attacker's findings of issue 18, one test each: injection, login stalls, audit rewrites, limits, tokens.
security: $(STAMP)
	$(BIN)/pytest tests/security $(XDIST) $(PYTEST_ARGS)

# The UI in Debian's headless Chromium, driven by Playwright (executable_path), against app and simulator.
browser: $(STAMP)
	$(BIN)/pytest tests/browser $(XDIST) $(PYTEST_ARGS)

sanity: $(STAMP)
	scripts/sanity.sh $(VENV)

lint: $(STAMP)
	scripts/lint.sh $(VENV)

# Benchmarks print one table (measured, floor or peer, ratio, target); never part of a pass/fail run.
# BENCH=app,sim,... runs some sections only.
bench: collection
	$(BIN)/python tests/benchmarks/run.py --only "$(BENCH)"

clean:
	rm -rf build $(COLLECTIONS) .pytest_cache .ruff_cache
