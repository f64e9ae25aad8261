# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The connection to a Nutanix Move appliance (REST v2), shared by the day2ops.ahv.move action group.
    DOCUMENTATION = r"""
options:
  move_host:
    description:
      - Move appliance host name or IP address.
      - If not set, the environment variable E(MOVE_HOST) is used.
    type: str
    required: true
  move_port:
    description:
      - Move HTTPS port.
      - If not set, the environment variable E(MOVE_PORT) is used.
    type: int
    default: 443
  move_username:
    description:
      - Move user.
      - If not set, the environment variable E(MOVE_USERNAME) is used.
    type: str
    default: nutanix
  move_password:
    description:
      - Password of O(move_username). Never logged or returned.
      - If not set, the environment variable E(MOVE_PASSWORD) is used.
    type: str
    required: true
  validate_certs:
    description:
      - Whether to verify the TLS certificate of Move (self-signed by default). Prefer O(ca_path).
      - If not set, the environment variable E(MOVE_VALIDATE_CERTS) is used.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM CA bundle to verify Move's certificate with.
      - If not set, the environment variable E(MOVE_CA_PATH) is used.
    type: path
  request_timeout:
    description: Seconds to wait for one HTTP answer before the call counts as failed (and is retried).
    type: float
    default: 30.0
attributes:
  action_group:
    description: Part of the action group, so C(module_defaults) sets the connection options once.
    support: full
    membership:
      - day2ops.ahv.move
  platform:
    description: Runs wherever Python and C(requests) are; it talks HTTPS to the Move appliance.
    support: full
    platforms: all
notes:
  - "Move REST API v2 (Move 5.x). Logs in with C(/move/v2/users/login) and sends the token as
    C(Authorization: Bearer <token>); a token that expires (about 15 minutes) is renewed on the first 401."
  - Retries on HTTP 408, 429, 502, 503 and 504 with backoff, honouring C(Retry-After).
"""
