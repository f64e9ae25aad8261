"""The app's settings, from DAY2OPS_* environment variables (pydantic-settings)."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from day2ops_app.runs.remote_nodes import nodes_from

REPO = Path(__file__).resolve().parents[2]
# The variables a wave file may name for a guest password (the collection's _waves.PASSWORD_ENV).
GUEST_PASSWORD = re.compile(r"^MIGRATION_GUEST_[A-Z0-9_]+$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DAY2OPS_", extra="ignore")

    db_url: str = f"sqlite:///{REPO / '.day2ops' / 'app' / 'audit.db'}"
    data_dir: Path = REPO / ".day2ops" / "app"
    catalog_dir: Path = REPO / "catalog"
    playbook_dir: Path = REPO / "playbooks"
    ui_dir: Path = REPO / "ui"
    # Where playbooks reach the app back (the approval module); the address `day2ops serve` binds.
    base_url: str = "http://127.0.0.1:8080"
    # The audit chain's HMAC keys (a 0600 file made on first start; default <data_dir>/audit.key) or the
    # current key itself from the environment, and the checkpoint of the chain's head (default
    # <data_dir>/audit.checkpoint, its log beside it): see docs/security.md.
    audit_key_file: Path | None = None
    audit_key: SecretStr = SecretStr("")
    audit_checkpoint_file: Path | None = None

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

    # vCenter and Nutanix Move, for the migration items: handed to every run as VMWARE_* and MOVE_*, the
    # passwords as secrets (see migration_env).
    vcenter_host: str = ""
    vcenter_port: int = 443
    vcenter_username: str = ""
    vcenter_password: SecretStr = SecretStr("")
    vcenter_ca_path: str = ""
    move_host: str = ""
    move_port: int = 443
    move_username: str = "nutanix"
    move_password: SecretStr = SecretStr("")
    move_ca_path: str = ""

    # Site-specific YAML: extra vars for every run, and host vars for the VMs of a generated inventory
    # (SSH user and key, for example).
    site_vars_file: Path | None = None
    inventory_vars_file: Path | None = None

    session_hours: float = 12.0
    # Unset: Secure cookies exactly when base_url is https. True or False overrides that.
    secure_cookies: bool | None = None
    # API tokens expire after token_days unless created for fewer; none may live longer than token_max_days.
    token_days: int = Field(90, ge=1)
    token_max_days: int = Field(365, ge=1)
    # Wrong logins: this many for one user name, or per_address for one client address, within
    # window_seconds lock that name or address out for lockout_seconds (or until an admin lifts it).
    login_max_failures: int = Field(5, ge=1)
    login_max_failures_per_address: int = Field(50, ge=1)
    login_window_seconds: float = Field(900.0, gt=0)
    login_lockout_seconds: float = Field(900.0, gt=0)

    @model_validator(mode="after")
    def _token_days_within_max(self):
        if self.token_days > self.token_max_days:
            raise ValueError(
                f"DAY2OPS_TOKEN_DAYS ({self.token_days}) is above "
                f"DAY2OPS_TOKEN_MAX_DAYS ({self.token_max_days}): lower the one or raise the other"
            )
        return self

    scheduler_seconds: float = 5.0
    # A fire more than this late counts as missed (the app was down): see Schedule.missed.
    misfire_grace_seconds: float = 120.0
    default_gate_hours: float = 72.0

    # Limits: what one logged-in user can make the app hold, start or repeat (docs/security.md).
    # The largest request body, in bytes; a larger one is refused with 413 before it is read.
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    # Runs executing at once on this instance; more wait as `queued` and start in submission order.
    max_concurrent_runs: int = Field(default_factory=lambda: max(2, os.cpu_count() or 1), ge=1)
    # The shortest time between two fires of a schedule.
    min_schedule_seconds: float = Field(300.0, ge=0)
    # Live form choices kept for a few seconds: at most this many lists (one per source and parent).
    choices_cache_size: int = Field(256, ge=1)

    # Where a run executes: `local` (ansible-runner on this machine); see runs/backends.py.
    run_backend: str = "local"
    # Names this instance in the runs it drives; give each instance sharing a database its own.
    instance_id: str = socket.gethostname()
    # run_backend `awx`: AWX / Ansible Automation Platform runs the exported job templates
    # (docs/deploy/awx-backend.md). The token is an OAuth2 token of the AWX user the app acts as.
    awx_url: str = ""
    awx_token: SecretStr = SecretStr("")
    awx_verify_ssl: bool = True
    awx_poll_seconds: float = Field(2.0, gt=0)

    @model_validator(mode="after")
    def _awx_reachable(self):
        if self.run_backend == "awx":
            for field, value in (("AWX_URL", self.awx_url), ("AWX_TOKEN", self.awx_token.get_secret_value())):
                if not value:
                    raise ValueError(f"DAY2OPS_{field} is empty: DAY2OPS_RUN_BACKEND=awx needs it")
        return self

    # run_backend `remote`: ansible-runner workers on execution nodes over SSH
    # (docs/deploy/remote-workers.md): user@host:port, comma separated; their host keys must be known.
    remote_workers: str = ""
    remote_ssh_key: Path | None = None
    remote_known_hosts: Path | None = None
    remote_runner: str = "ansible-runner"

    @model_validator(mode="after")
    def _remote_workers_usable(self):
        if self.run_backend == "remote":
            nodes_from(self.remote_workers, self.remote_ssh_key, self.remote_known_hosts)
        return self

    @property
    def cookies_secure(self) -> bool:
        if self.secure_cookies is not None:
            return self.secure_cookies
        return self.base_url.startswith("https://")

    def secret_values(self) -> list[str]:
        return [
            s
            for s in (
                self.prism_password.get_secret_value(),
                self.prism_api_key.get_secret_value(),
                self.awx_token.get_secret_value(),
                self.vcenter_password.get_secret_value(),
                self.move_password.get_secret_value(),
                self.audit_key.get_secret_value(),
            )
            if s
        ]

    def migration_env(self) -> tuple[dict[str, str], dict[str, str]]:
        """The VMWARE_* and MOVE_* variables of a run, plain and secret, for what is configured."""
        env: dict[str, str] = {}
        secret: dict[str, str] = {}
        for prefix, user, name in (("VMWARE", "VMWARE_USER", "vcenter"), ("MOVE", "MOVE_USERNAME", "move")):
            if not getattr(self, f"{name}_host"):
                continue
            env[f"{prefix}_HOST"] = getattr(self, f"{name}_host")
            env[f"{prefix}_PORT"] = str(getattr(self, f"{name}_port"))
            env[user] = getattr(self, f"{name}_username")
            if getattr(self, f"{name}_ca_path"):
                env[f"{prefix}_CA_PATH"] = getattr(self, f"{name}_ca_path")
            password = getattr(self, f"{name}_password").get_secret_value()
            if password:
                secret[f"{prefix}_PASSWORD"] = password
        # Guest passwords a wave file names (password_env: MIGRATION_GUEST_<NAME>) are the site's, set in
        # the app's environment; as secrets of the run they are masked in its artifacts.
        secret.update((k, v) for k, v in os.environ.items() if GUEST_PASSWORD.match(k) and v)
        return env, secret
