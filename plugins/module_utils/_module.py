# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

The one module shape every API's modules compose (Prism, vCenter, Move): AnsibleModule with the
API's connection options merged in, one client built from them, and one way to fail.
"""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.day2ops.ahv.plugins.module_utils._http import REQUESTS_IMPORT_ERROR, ApiError


class ClientModule:
    """AnsibleModule plus a client; `run(ensure)` turns ensure's (changed, result) into the exit."""

    def __init__(self, connection_spec, make_client, argument_spec, **kwargs):
        spec = dict(connection_spec)
        spec.update(argument_spec)
        self.ansible = AnsibleModule(argument_spec=spec, **kwargs)
        self.params = self.ansible.params
        if REQUESTS_IMPORT_ERROR:
            self.ansible.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
        try:
            self.client = make_client(self.params)
        except ApiError as err:
            self.fail_api(err)

    @property
    def check_mode(self):
        return self.ansible.check_mode

    def fail_api(self, err, **result):
        result.update(err.result())
        self.ansible.fail_json(msg=str(err), **result)

    def run(self, ensure):
        try:
            changed, result = ensure(self)
        except ApiError as err:
            self.fail_api(err)
        self.ansible.exit_json(changed=changed, **result)
