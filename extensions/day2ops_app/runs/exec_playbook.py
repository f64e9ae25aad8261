"""`day2ops-ansible-playbook`: ansible-runner's binary for app runs.

ansible-runner writes the whole environment of the command it starts into its artifacts
(`artifacts/<id>/command`). So secrets are not in that environment: the app writes them to a
private file named by DAY2OPS_SECRETS_FILE, and this wrapper reads it, deletes it, and execs
ansible-playbook with them. Nothing on disk holds a secret once the playbook has started.
"""

import json
import os
import sys
from pathlib import Path


def main() -> None:
    path = os.environ.pop("DAY2OPS_SECRETS_FILE", "")
    if path:
        secrets_file = Path(path)
        try:
            os.environ.update(json.loads(secrets_file.read_text()))
        finally:
            secrets_file.unlink(missing_ok=True)
    playbook = str(Path(sys.executable).parent / "ansible-playbook")
    os.execv(playbook, [playbook, *sys.argv[1:]])


if __name__ == "__main__":
    main()
