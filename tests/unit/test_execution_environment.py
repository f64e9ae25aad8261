"""The execution environment: what ansible-builder finds in the collection as it ships, and the build
context it writes from execution-environment.yml. Building the image itself needs a container engine
(docs/deploy/execution-environment.md); everything up to it runs here, with the real tools."""

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest
import yaml
from bindep.depends import Depends
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GALAXY = yaml.safe_load((REPO / "galaxy.yml").read_text())
FQCN = f"{GALAXY['namespace']}.{GALAXY['name']}"
TARBALL = f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"
# Automation Hub refuses collections that require Ansible itself: the execution environment brings it.
ANSIBLE_ITSELF = {"ansible", "ansible-core", "ansible-base"}


def lines(path: Path) -> list[str]:
    """A requirements or bindep file without comments and blank lines."""
    stripped = (re.sub(r"(^|\s+)#.*$", "", line).strip() for line in path.read_text().splitlines())
    return [line for line in stripped if line]


def run(*args, cwd: Path) -> str:
    # A private ANSIBLE_HOME: nothing read from, or written to, the user's ~/.ansible.
    env = {**os.environ, "ANSIBLE_HOME": str(cwd / ".ansible-home"), "ANSIBLE_NOCOLOR": "1"}
    done = subprocess.run(
        [str(arg) for arg in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def introspect(command: list, collections: Path, out: Path) -> tuple[list[str], list[str]]:
    """The Python and system requirements ansible-builder collects from this collection in a
    collections path; it writes each as "<entry>  # from collection <fqcn>", comments dropped."""
    run(*command, collections, "--write-pip", out / "pip.txt", "--write-bindep", out / "bindep.txt", cwd=out)
    suffix = f"  # from collection {FQCN}"
    return tuple(
        [line.removesuffix(suffix) for line in (out / name).read_text().splitlines() if line.endswith(suffix)]
        for name in ("pip.txt", "bindep.txt")
    )


def assert_ours_found(pip: list[str], bindep: list[str]) -> None:
    assert pip == lines(REPO / "requirements.txt")
    assert bindep == lines(REPO / "bindep.txt")


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """A copy of execution-environment.yml beside the tarball `ansible-galaxy collection build` makes,
    in build/ee/ where the definition expects it. Built from inside the directory, so the repository's
    ansible.cfg does not apply."""
    work = tmp_path_factory.mktemp("ee")
    shutil.copy(REPO / "execution-environment.yml", work)
    run(BIN / "ansible-galaxy", "collection", "build", "--output-path", work / "build" / "ee", REPO, cwd=work)
    return work


def test_the_artifact_ships_the_ee_metadata_and_leaves_the_image_definition_out(work: Path):
    with tarfile.open(work / "build" / "ee" / TARBALL) as artifact:
        names = set(artifact.getnames())
    assert {"requirements.txt", "bindep.txt", "meta/execution-environment.yml"} <= names
    assert "execution-environment.yml" not in names
    assert not [name for name in names if name == "docs" or name.startswith("docs/")]


def test_introspection_of_the_installed_collection_finds_its_python_and_system_packages(work: Path, tmp_path):
    collections = tmp_path / "collections"
    run(
        *(BIN / "ansible-galaxy", "collection", "install", "--offline", "--no-deps"),
        *("-p", collections, work / "build" / "ee" / TARBALL),
        cwd=tmp_path,
    )
    pip, bindep = introspect([BIN / "ansible-builder", "introspect"], collections, tmp_path)
    assert_ours_found(pip, bindep)


def test_the_build_context_installs_the_shipped_tarball_and_pins_no_ansible_core(work: Path, tmp_path):
    context = tmp_path / "context"
    run(
        *(BIN / "ansible-builder", "create", "--file", work / "execution-environment.yml"),
        *("--context", context, "--output-filename", "Containerfile"),
        cwd=work,
    )
    containerfile = (context / "Containerfile").read_text()
    refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="([^"]*)"$', containerfile, re.MULTILINE)
    assert refs, "the Containerfile installs no ansible-core"
    core = [Requirement(ref) for ref in refs.group(1).split() if Requirement(ref).name == "ansible-core"]
    assert core and all(spec.operator not in ("==", "===") for spec in core[0].specifier), refs.group(1)

    build = context / "_build"
    assert (build / "collections" / TARBALL).is_file()
    galaxy = yaml.safe_load((build / "requirements.yml").read_text())
    assert galaxy["collections"] == [{"name": f"collections/{TARBALL}", "type": "file"}]

    # The galaxy and builder stages without a container: the same install from /build, then the
    # context's own introspect script over what it installed.
    collections = tmp_path / "ee-collections"
    install = (BIN / "ansible-galaxy", "collection", "install", "--offline")
    run(*install, "-r", "requirements.yml", "-p", collections, cwd=build)
    pip, bindep = introspect(
        [sys.executable, build / "scripts" / "introspect.py", "introspect"], collections, tmp_path
    )
    assert_ours_found(pip, bindep)


def test_python_requirements_follow_automation_hub_rules_and_the_tested_floors():
    tested = {
        Requirement(dep).name: Requirement(dep)
        for dep in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    requirements = [Requirement(line) for line in lines(REPO / "requirements.txt")]
    assert requirements
    for req in requirements:
        assert req.name not in ANSIBLE_ITSELF, f"{req}: the execution environment brings Ansible"
        operators = {spec.operator for spec in req.specifier}
        assert operators == {">="}, f"{req}: a >= floor only, no exact pins (Automation Hub)"
        assert req.name in tested and req.specifier == tested[req.name].specifier, (
            f"{req}: pyproject.toml tests with {tested.get(req.name)}"
        )


def test_system_requirements_bring_an_ssh_client_on_both_package_families():
    bindep = Depends((REPO / "bindep.txt").read_text())
    rpm = bindep.active_rules(["platform:rpm", "platform:redhat"])
    dpkg = bindep.active_rules(["platform:dpkg", "platform:debian"])
    assert [rule[0] for rule in rpm] == ["openssh-clients"]
    assert [rule[0] for rule in dpkg] == ["openssh-client"]
