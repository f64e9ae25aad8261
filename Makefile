# The two commands that matter: `make demo` and `make test`. Everything installs itself.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
COLLECTIONS := collections
SIM_PORT ?= 9440
SIM_VMS ?= 300
PYTEST_ARGS ?=

.PHONY: demo demo-patch test venv collection unit contract integration app ruff sanity lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

# The collection as Ansible sees it, built with build_ignore applied, in a local collections path.
collection: $(STAMP)
	scripts/install-collection.sh $(COLLECTIONS) $(VENV)

demo: collection
	@echo
	@echo "  Prism Central simulator:  https://127.0.0.1:$(SIM_PORT)   (self-signed certificate)"
	@echo "  login:                    admin / Nutanix.123   or header X-ntnx-api-key: day2ops-demo-api-key"
	@echo "  try:  curl -k -u admin:Nutanix.123 'https://127.0.0.1:$(SIM_PORT)/api/vmm/v4.0/ahv/config/vms?\$$limit=1'"
	@echo "  control API:              https://127.0.0.1:$(SIM_PORT)/_sim/state      (Ctrl-C stops the demo)"
	@echo "  for the collection:       export NUTANIX_HOST=127.0.0.1 NUTANIX_PORT=$(SIM_PORT) NUTANIX_USERNAME=admin \\"
	@echo "                              NUTANIX_PASSWORD=Nutanix.123 NUTANIX_CA_PATH=$(CURDIR)/.demo/sim/sim-cert.pem"
	@echo
	$(BIN)/day2ops sim --port $(SIM_PORT) --vm-count $(SIM_VMS) --control --cert-dir .demo/sim --log-level info

# With `make demo` running: playbooks/safe_patch.yml over HR's test app tier, one VM made to break.
demo-patch: collection
	$(BIN)/python tests/safe_patch_lab.py --port $(SIM_PORT) --ca .demo/sim/sim-cert.pem --break hr-portal-tst-app-141

test: $(STAMP) ruff unit contract integration app sanity lint

ruff: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check extensions tests scripts

unit: $(STAMP)
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

contract: $(STAMP)
	$(BIN)/pytest tests/contract $(PYTEST_ARGS)

integration: $(STAMP)
	$(BIN)/pytest tests/integration $(PYTEST_ARGS)

# The self-service app as a real process: runs, approvals, schedules, the store on SQLite and PostgreSQL.
app: $(STAMP)
	$(BIN)/pytest tests/app $(PYTEST_ARGS)

sanity: $(STAMP)
	scripts/sanity.sh $(VENV)

lint: $(STAMP)
	scripts/lint.sh $(VENV)

# Benchmarks print a table; they are never part of a pass/fail test run.
bench: $(STAMP)
	$(BIN)/python tests/benchmarks/run.py

clean:
	rm -rf build $(COLLECTIONS) .pytest_cache .ruff_cache
