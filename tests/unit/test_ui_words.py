"""The UI's words built from API values (ui/static/words.js), run by node: "alex rejected", not "rejectd"."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

WORDS = Path(__file__).resolve().parents[2] / "ui" / "static" / "words.js"
PAGES = WORDS.parent / "pages"


def decided(*decisions: str) -> list[str]:
    module, values = json.dumps(WORDS.as_uri()), json.dumps(list(decisions))
    script = (
        f"import {{ decided }} from {module}; console.log(JSON.stringify({values}.map((d) => decided(d))));"
    )
    node = shutil.which("node") or pytest.fail("node is not installed: make system installs Debian's nodejs")
    out = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_a_decision_reads_in_the_past_tense():
    assert decided("approve", "reject") == ["approved", "rejected"]
    assert decided("abstain") == ["abstain"]  # a word it does not know is shown as it is


def test_the_pages_say_decisions_through_it():
    for page in ("run.js", "approvals.js"):
        text = (PAGES / page).read_text()
        assert "decided(d.decision)" in text and "decision}d" not in text, page


@pytest.mark.parametrize("script", sorted(WORDS.parent.rglob("*.js")), ids=lambda p: p.name)
def test_every_ui_module_parses(script, tmp_path):
    """An early error (a name declared twice, say) stops a whole page in the browser: node finds it first."""
    node = shutil.which("node") or pytest.fail("node is not installed: make system installs Debian's nodejs")
    module = tmp_path / (script.stem + ".mjs")  # .mjs: parsed as an ES module, as the browser does
    module.write_text(script.read_text())
    checked = subprocess.run([node, "--check", str(module)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
