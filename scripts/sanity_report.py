"""Summarise an `ansible-test sanity --junit` run: which tests ran, which were not applicable.

Usage: python scripts/sanity_report.py JUNIT_DIR [SKIPPED_TEST=REASON ...]

ansible-test prints `Running sanity test "X"` even for a test that then finds nothing to check
(no files of its kind in the collection); its JUnit file is the only place that tells the two apart.
The last line has the form `sanity: N passed, N failed, N skipped`.
"""

import pathlib
import sys
import xml.etree.ElementTree as ET


def main() -> int:
    junit_dir = pathlib.Path(sys.argv[1])
    explicit = dict(arg.split("=", 1) for arg in sys.argv[2:])
    passed: list[str] = []
    failed: list[str] = []
    skipped: list[tuple[str, str]] = []

    for path in sorted(junit_dir.glob("*.xml")) if junit_dir.is_dir() else []:
        for case in ET.parse(path).getroot().iter("testcase"):
            name = case.get("name", path.stem).replace("-python-", " on python ")
            skip = case.find("skipped")
            if case.find("failure") is not None or case.find("error") is not None:
                failed.append(name)
            elif skip is not None:
                skipped.append((name, skip.get("message") or (skip.text or "").strip() or "skipped"))
            else:
                passed.append(name)

    skipped += [(name, f"skipped by scripts/sanity.sh: {reason}") for name, reason in explicit.items()]

    print("sanity tests that ran and passed:  " + (", ".join(passed) or "none"))
    print("sanity tests that ran and failed:  " + (", ".join(failed) or "none"))
    print("sanity tests skipped:")
    for name, reason in sorted(skipped):
        print(f"  {name}: {reason}")
    if not (passed or failed or skipped):
        print(f"  (no JUnit results found in {junit_dir})")
    print(f"sanity: {len(passed)} passed, {len(failed)} failed, {len(skipped)} skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
