# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

The vCenter and Move modules' connection options (documented in the day2ops.ahv.vcenter and
day2ops.ahv.move doc fragments), each with its client, on the shared ClientModule.
"""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

from ansible_collections.day2ops.ahv.plugins.module_utils._module import ClientModule
from ansible_collections.day2ops.ahv.plugins.module_utils._move import MoveClient
from ansible_collections.day2ops.ahv.plugins.module_utils._vcenter import VCenterClient


def _env(*names):
    return (env_fallback, list(names))


VCENTER_SPEC = dict(
    vcenter_host=dict(type="str", required=True, fallback=_env("VMWARE_HOST")),
    vcenter_port=dict(type="int", default=443, fallback=_env("VMWARE_PORT")),
    vcenter_username=dict(type="str", required=True, fallback=_env("VMWARE_USER")),
    vcenter_password=dict(type="str", required=True, no_log=True, fallback=_env("VMWARE_PASSWORD")),
    validate_certs=dict(type="bool", default=True, fallback=_env("VMWARE_VALIDATE_CERTS")),
    ca_path=dict(type="path", fallback=_env("VMWARE_CA_PATH")),
    request_timeout=dict(type="float", default=30.0),
)
MOVE_SPEC = dict(
    move_host=dict(type="str", required=True, fallback=_env("MOVE_HOST")),
    move_port=dict(type="int", default=443, fallback=_env("MOVE_PORT")),
    move_username=dict(type="str", default="nutanix", fallback=_env("MOVE_USERNAME")),
    move_password=dict(type="str", required=True, no_log=True, fallback=_env("MOVE_PASSWORD")),
    validate_certs=dict(type="bool", default=True, fallback=_env("MOVE_VALIDATE_CERTS")),
    ca_path=dict(type="path", fallback=_env("MOVE_CA_PATH")),
    request_timeout=dict(type="float", default=30.0),
)


def vcenter_module(argument_spec, **kwargs):
    return ClientModule(VCENTER_SPEC, VCenterClient.from_options, argument_spec, **kwargs)


def move_module(argument_spec, **kwargs):
    return ClientModule(MOVE_SPEC, MoveClient.from_options, argument_spec, **kwargs)
