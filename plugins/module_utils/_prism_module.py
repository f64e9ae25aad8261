# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

The small base every Prism module composes: the shared connection options (documented in
the day2ops.ahv.prism doc fragment) and one PrismClient, on the shared ClientModule.
"""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

from ansible_collections.day2ops.ahv.plugins.module_utils._module import ClientModule
from ansible_collections.day2ops.ahv.plugins.module_utils._prism import NAMESPACES, PrismClient

CONNECTION_SPEC = dict(
    nutanix_host=dict(type="str", required=True, fallback=(env_fallback, ["NUTANIX_HOST"])),
    nutanix_port=dict(type="int", default=9440, fallback=(env_fallback, ["NUTANIX_PORT"])),
    nutanix_username=dict(type="str", fallback=(env_fallback, ["NUTANIX_USERNAME"])),
    nutanix_password=dict(type="str", no_log=True, fallback=(env_fallback, ["NUTANIX_PASSWORD"])),
    nutanix_api_key=dict(type="str", no_log=True, fallback=(env_fallback, ["NUTANIX_API_KEY"])),
    validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["VALIDATE_CERTS"])),
    ca_path=dict(type="path", fallback=(env_fallback, ["NUTANIX_CA_PATH"])),
    request_timeout=dict(type="float", default=30.0),
    max_retries=dict(type="int", default=5),
    concurrency=dict(type="int", default=8),
    api_versions=dict(type="dict", options=dict((ns, dict(type="str")) for ns in NAMESPACES)),
)
# One entity (a VM, a template), by ext_id or by name, never both.
VM_SPEC = dict(ext_id=dict(type="str"), name=dict(type="str"))
VM_CHOICE = dict(required_one_of=[("ext_id", "name")], mutually_exclusive=[("ext_id", "name")])
WAIT_SPEC = dict(
    wait=dict(type="bool", default=True),
    timeout=dict(type="int", default=600),
)


def _client(params):
    options = dict(params)
    options["api_versions"] = dict((k, v) for k, v in (params["api_versions"] or {}).items() if v)
    return PrismClient.from_options(options)


class PrismModule(ClientModule):
    """ClientModule with the Prism connection options and a PrismClient."""

    def __init__(self, argument_spec, **kwargs):
        ClientModule.__init__(self, CONNECTION_SPEC, _client, argument_spec, **kwargs)

    @property
    def diff(self):
        return self.ansible._diff
