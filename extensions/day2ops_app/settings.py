"""The app's settings, from DAY2OPS_* environment variables (pydantic-settings)."""

from __future__ import annotations

import socket
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DAY2OPS_", extra="ignore")

    db_url: str = f"sqlite:///{REPO / '.day2ops' / 'app' / 'audit.db'}"
    data_dir: Path = REPO / ".day2ops" / "app"
    catalog_dir: Path = REPO / "catalog"
    playbook_dir: Path = REPO / "playbooks"
    ui_dir: Path = REPO / "ui"
    # Where playbooks reach the app back (the approval module); the address `day2ops serve` binds.
    base_url: str = "http://127.0.0.1:8080"

    # Prism Central: for live form choices, and handed to every run as NUTANIX_* variables.
    prism_host: str = ""
    prism_port: int = 9440
    prism_username: str = ""
    prism_password: SecretStr = SecretStr("")
    prism_api_key: SecretStr = SecretStr("")
    prism_ca_path: str = ""
    prism_validate_certs: bool = True
    # Where a Prism task id links to in the UI; {host}, {port} and {task_ext_id} are filled in.
    prism_task_url: str = "https://{host}:{port}/api/prism/v4.0/config/tasks/{task_ext_id}"

    # Site-specific YAML: extra vars for every run, and host vars for the VMs of a generated inventory
    # (SSH user and key, for example).
    site_vars_file: Path | None = None
    inventory_vars_file: Path | None = None

    session_hours: float = 12.0
    secure_cookies: bool = False
    scheduler_seconds: float = 5.0
    # A fire more than this late counts as missed (the app was down): see Schedule.missed.
    misfire_grace_seconds: float = 120.0
    default_gate_hours: float = 72.0
    # Names this instance in the runs it drives; give each instance sharing a database its own.
    instance_id: str = socket.gethostname()

    def secret_values(self) -> list[str]:
        return [
            s for s in (self.prism_password.get_secret_value(), self.prism_api_key.get_secret_value()) if s
        ]
