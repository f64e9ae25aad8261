# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The connection to Prism Central, shared by every module of the day2ops.ahv.prism action group.
    DOCUMENTATION = r"""
options:
  nutanix_host:
    description:
      - Prism Central host name or IP address.
      - If not set, the environment variable E(NUTANIX_HOST) is used.
    type: str
    required: true
  nutanix_port:
    description:
      - Prism Central HTTPS port.
      - If not set, the environment variable E(NUTANIX_PORT) is used.
    type: int
    default: 9440
  nutanix_username:
    description:
      - User name for HTTP basic authentication.
      - If not set, the environment variable E(NUTANIX_USERNAME) is used.
      - Give either O(nutanix_username) and O(nutanix_password), or O(nutanix_api_key).
    type: str
  nutanix_password:
    description:
      - Password of O(nutanix_username).
      - If not set, the environment variable E(NUTANIX_PASSWORD) is used.
    type: str
  nutanix_api_key:
    description:
      - A Prism Central API key, sent as the C(X-ntnx-api-key) header instead of basic authentication.
      - If not set, the environment variable E(NUTANIX_API_KEY) is used.
    type: str
  validate_certs:
    description:
      - Whether to verify the TLS certificate of Prism Central.
      - Turn it off only for a lab; prefer O(ca_path).
      - If not set, the environment variable E(VALIDATE_CERTS) is used.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM CA bundle to verify the certificate of Prism Central with, instead of the system's.
      - If not set, the environment variable E(NUTANIX_CA_PATH) is used.
    type: path
  request_timeout:
    description:
      - Seconds to wait for one HTTP answer before the call counts as failed (and is retried).
    type: float
    default: 30.0
  max_retries:
    description:
      - How many times a call is retried on HTTP 408, 429, 502, 503, 504 or a connection error.
      - Retries back off exponentially with jitter, honour C(Retry-After), and resend the same
        C(NTNX-Request-Id) so Prism Central replays rather than repeats a mutation.
    type: int
    default: 5
  concurrency:
    description:
      - How many HTTP calls run at once when reading many pages or polling many tasks.
    type: int
    default: 8
  api_versions:
    description:
      - The v4 API version segment per namespace, for example V(v4.1).
      - Every namespace defaults to V(v4.0), which every generally available Prism Central serves;
        pc.2024.3 serves nothing newer.
    type: dict
    suboptions:
      vmm:
        description: Version of the vmm API (VMs, templates).
        type: str
      prism:
        description: Version of the prism API (tasks, categories).
        type: str
      clustermgmt:
        description: Version of the clustermgmt API (clusters).
        type: str
      dataprotection:
        description: Version of the dataprotection API (recovery points).
        type: str
"""

    # The module options' environment variables, as the inventory plugin reads them.
    INVENTORY = r"""
options:
  nutanix_host:
    env:
      - name: NUTANIX_HOST
  nutanix_port:
    env:
      - name: NUTANIX_PORT
  nutanix_username:
    env:
      - name: NUTANIX_USERNAME
  nutanix_password:
    env:
      - name: NUTANIX_PASSWORD
  nutanix_api_key:
    env:
      - name: NUTANIX_API_KEY
  validate_certs:
    env:
      - name: VALIDATE_CERTS
  ca_path:
    env:
      - name: NUTANIX_CA_PATH
"""

    # What every module (not the inventory plugin) shares: the action group and the notes.
    MODULE = r"""
attributes:
  action_group:
    description: Part of the action group, so C(module_defaults) sets the connection options once.
    support: full
    membership:
      - day2ops.ahv.prism
  platform:
    description: Runs wherever Python and C(requests) are; it talks HTTPS to Prism Central.
    support: full
    platforms: all
notes:
  - Set the connection once for every module with C(module_defaults) and the action group
    C(group/day2ops.ahv.prism).
  - Only the Python library C(requests) is needed at run time, no vendor SDK.
"""

    # Attributes of the modules that only read.
    INFO = r"""
attributes:
  check_mode:
    support: full
    details: It changes nothing, so it runs the same in check mode.
  diff_mode:
    support: none
"""

    # Attributes of the modules that change Prism Central.
    CHANGE = r"""
attributes:
  check_mode:
    support: full
    details: Reports exactly what would change, without calling any mutating API.
  diff_mode:
    support: full
    details: Shows the affected fields before and after.
"""

    # One VM, by ext_id or by name (the module requires one of them).
    VM = r"""
options:
  ext_id:
    description: The VM's ext_id. Give O(ext_id) or O(name).
    type: str
  name:
    description: The VM's name. A name shared by several VMs is an error that lists them.
    type: str
"""

    # Many VMs at once (vm_power, vm_categories): each VM its own task, polled together.
    VM_BATCH = r"""
options:
  vm_ext_ids:
    description:
      - Many VMs by ext_id, instead of O(ext_id) or O(name); each is reported in RV(results).
    type: list
    elements: str
  vm_names:
    description:
      - Many VMs by name, instead of O(ext_id) or O(name). A name that matches no VM or several is that
        VM's failure in RV(results).
    type: list
    elements: str
  fail_on_error:
    description:
      - With O(vm_ext_ids) or O(vm_names), fail (after every VM finished) when any VM failed; all results
        are returned either way. With V(false), read each VM's C(status) in RV(results).
    type: bool
    default: true
"""

    # One template, by ext_id or by name (the module requires one of them).
    TEMPLATE = r"""
options:
  ext_id:
    description: The template's ext_id. Give O(ext_id) or O(name).
    type: str
  name:
    description: The template's name. A name shared by several templates is an error that lists them.
    type: str
"""

    # Changes to a VM's configuration made from a template version (Prism's VmConfigOverride). Each
    # module that takes it says, in its own description of override, what the changes apply to.
    TEMPLATE_OVERRIDE = r"""
options:
  override:
    description: Changes to the VM configuration.
    type: dict
    suboptions:
      num_sockets:
        description: vCPU sockets.
        type: int
      num_cores_per_socket:
        description: Cores per socket.
        type: int
      num_threads_per_core:
        description: Threads per core.
        type: int
      memory_mib:
        description: Memory in MiB.
        type: int
"""

    WAIT = r"""
options:
  wait:
    description:
      - Wait for the Prism task to end, and fail if it did not succeed.
      - With V(false) the module returns as soon as Prism accepted the change, with RV(task_ext_id).
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for the task before failing (the change may still complete in Prism Central).
    type: int
    default: 600
"""
