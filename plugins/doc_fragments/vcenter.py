# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The connection to vCenter (Automation REST, /api), shared by the day2ops.ahv.vcenter action group.
    # The environment variables are community.vmware's, so existing setups carry over.
    DOCUMENTATION = r"""
options:
  vcenter_host:
    description:
      - vCenter host name or IP address.
      - If not set, the environment variable E(VMWARE_HOST) is used.
    type: str
    required: true
  vcenter_port:
    description:
      - vCenter HTTPS port.
      - If not set, the environment variable E(VMWARE_PORT) is used.
    type: int
    default: 443
  vcenter_username:
    description:
      - vCenter user, for example C(administrator@vsphere.local).
      - If not set, the environment variable E(VMWARE_USER) is used.
    type: str
    required: true
  vcenter_password:
    description:
      - Password of O(vcenter_username). Sent once, to create a session; never logged or returned.
      - If not set, the environment variable E(VMWARE_PASSWORD) is used.
    type: str
    required: true
  validate_certs:
    description:
      - Whether to verify the TLS certificate of vCenter. Turn it off only for a lab; prefer O(ca_path).
      - If not set, the environment variable E(VMWARE_VALIDATE_CERTS) is used.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM CA bundle to verify vCenter's certificate with.
      - If not set, the environment variable E(VMWARE_CA_PATH) is used.
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
      - day2ops.ahv.vcenter
  platform:
    description: Runs wherever Python and C(requests) are; it talks HTTPS to vCenter.
    support: full
    platforms: all
notes:
  - Talks to the vSphere Automation REST API (C(/api), vSphere 7.0 U2 and later), not the deprecated C(/rest).
  - A session that expires (vCenter idles them out) is created again once, transparently.
  - Retries on HTTP 408, 429, 502, 503 and 504 with backoff, honouring C(Retry-After).
"""
