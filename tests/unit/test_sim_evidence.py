"""The simulator's Move and vCenter evidence markers stay in step with its routes and with the team's
reference (docs/reference/move-vcenter-api.md), and the README points at that copy."""

import re
from pathlib import Path

import pytest
from day2ops_sim import evidence
from day2ops_sim.routes import move, vcenter
from day2ops_sim.state import SimState

REPO = Path(__file__).resolve().parents[2]
REFERENCE = (REPO / "docs" / "reference" / "move-vcenter-api.md").read_text()
SOURCES = {f"S{n}" for n in range(1, 10)} | {"V1", "V2", "V3"}
MARKERS = evidence.MOVE + evidence.VCENTER


def section(text: str, heading: str) -> str:
    """The body under the heading that starts with `heading`, up to the next heading of any level."""
    start = re.search(rf"^#+ {re.escape(heading)}.*$", text, re.M)
    assert start, f"no heading {heading!r}"
    end = re.search(r"^#+ ", text[start.end() :], re.M)
    return text[start.end() : start.end() + end.start()] if end else text[start.end() :]


def table_rows(text: str) -> list[dict[str, str]]:
    """Every row of every markdown table in `text`, keyed by its header (`\\|` is a pipe in a cell)."""
    rows, header = [], None
    for line in text.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if header is None:
            header = cells
        elif not set("".join(cells)) <= set("-: "):
            rows.append(dict(zip(header, cells, strict=False)))
    return rows


def template(path: str) -> str:
    """A path with its parameters unnamed: the reference writes {vmUuid} where the simulator has {vm_uuid}."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def reference_endpoints() -> dict[tuple[str, str], set[str]]:
    """A3's Move endpoints: (method, unnamed path) -> the letters of its Conf cell."""
    out = {}
    for row in table_rows(section(REFERENCE, "A3.")):
        method, path = row["Method & path"].replace("`", "").split()
        out[(method, template(path))] = set(re.findall(r"\b([CLRX])\b", row["Conf"]))
    return out


@pytest.mark.parametrize("api, markers", [(move, evidence.MOVE), (vcenter, evidence.VCENTER)])
def test_every_served_route_has_a_marker(api, markers):
    served = evidence.served_routes(api.router(SimState()))
    marked = {(m.method, m.path) for m in markers}
    assert served and served - marked == set()


def test_markers_are_the_references_letters_sources_and_sections():
    for m in MARKERS:
        assert m.conf in ("C", "L", "R"), m
        assert set(m.sources) <= SOURCES and m.note, m
        assert bool(m.method) != bool(m.behaviour), m
        section(REFERENCE, f"{m.section}.")
    keys = [(m.method, m.path, m.query, m.behaviour) for m in MARKERS]
    assert len(keys) == len(set(keys))


def test_move_operations_carry_the_letter_of_the_references_endpoint_table():
    table = reference_endpoints()
    assert len(table) > 20
    for m in evidence.MOVE:
        if not m.method:
            continue
        letters = table.get((m.method, template(m.path)))
        if letters is None:
            # Served although A3 does not list it: the simulator's own choice.
            assert m.conf == "R", m
            continue
        assert m.conf in letters, (m, letters)
        if len(letters) > 1:
            assert all(f"[{letter}]" in m.note for letter in letters), m


def test_the_coverage_report_says_what_is_served():
    report = evidence.report(evidence.MOVE, move.router(SimState()))
    login = next(r for r in report if r.get("path") == "/move/v2/users/login")
    assert login == {
        "conf": "C",
        "sources": ["S2", "S3", "S4"],
        "section": "A2",
        "note": login["note"],
        "method": "POST",
        "path": "/move/v2/users/login",
        "served": True,
    }
    ttl = next(r for r in report if r.get("behaviour") == "token_ttl_900s")
    assert ttl["conf"] == "R" and "served" not in ttl


def test_the_readme_points_at_the_repositorys_reference_and_the_coverage_keys():
    move_section = section((REPO / "docs" / "simulator.md").read_text(), "Migration with Nutanix Move")
    paragraph = move_section[move_section.index("**What the simulator follows, and how sure that is.**") :]
    paragraph = paragraph.split("\n\n")[0]
    assert "docs/reference/move-vcenter-api.md" in paragraph and "../shared" not in paragraph
    assert "/_sim/coverage" in paragraph and "`move`" in paragraph and "`vcenter`" in paragraph
    for level in ("Confirmed", "Likely", "Reconstructed"):
        assert f"| {level} (" in move_section, f"the README's Move table has no {level} row"
