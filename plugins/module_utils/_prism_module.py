# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

The small base every Prism module composes: the shared connection options (documented in
the day2ops.ahv.prism doc fragment), one PrismClient, and one way to fail.
"""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.day2ops.ahv.plugins.module_utils._http import REQUESTS_IMPORT_ERROR, ApiError
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


class PrismModule:
    """AnsibleModule plus a PrismClient; `run(ensure)` turns ensure's (changed, result) into the exit."""

    def __init__(self, argument_spec, **kwargs):
        spec = dict(CONNECTION_SPEC)
        spec.update(argument_spec)
        self.ansible = AnsibleModule(argument_spec=spec, **kwargs)
        self.params = self.ansible.params
        if REQUESTS_IMPORT_ERROR:
            self.ansible.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
        options = dict(self.params)
        options["api_versions"] = dict((k, v) for k, v in (self.params["api_versions"] or {}).items() if v)
        try:
            self.client = PrismClient.from_options(options)
        except ApiError as err:
            self.fail_api(err)

    @property
    def check_mode(self):
        return self.ansible.check_mode

    @property
    def diff(self):
        return self.ansible._diff

    def fail_api(self, err, **result):
        result.update(err.result())
        self.ansible.fail_json(msg=str(err), **result)

    def run(self, ensure):
        try:
            changed, result = ensure(self)
        except ApiError as err:
            self.fail_api(err)
        self.ansible.exit_json(changed=changed, **result)
