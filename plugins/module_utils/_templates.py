# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

AHV VM templates (vmm v4, through _vmm): lookups of templates and their versions by name or ext_id,
the only fields a client may set in an update, the VMs a deployment made (by name, checked against its
subtasks), the versions known to have failed their smoke test, and the summaries the template modules return.
"""

from __future__ import annotations

import re

from ansible_collections.day2ops.ahv.plugins.module_utils import _vmm
from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._lookup import (
    is_ext_id,
    pick_one,
    unless_gone,
    vms_named,
)
from ansible_collections.day2ops.ahv.plugins.module_utils._prism import affected
from ansible_collections.day2ops.ahv.plugins.module_utils._v4 import odata_quote

VM_SOURCE = "vmm.v4.content.TemplateVmReference"
VERSION_SOURCE = "vmm.v4.content.TemplateVersionReference"
# The module option `override` and the VmConfigOverride fields it sets; memory is given in MiB.
OVERRIDE_SPEC = dict(
    num_sockets=dict(type="int"),
    num_cores_per_socket=dict(type="int"),
    num_threads_per_core=dict(type="int"),
    memory_mib=dict(type="int"),
)
_OVERRIDE_FIELDS = dict(
    num_sockets="numSockets",
    num_cores_per_socket="numCoresPerSocket",
    num_threads_per_core="numThreadsPerCore",
)


# Prism keeps no state on a version once it is made (a version cannot be updated), so the template_release
# role records the versions that failed their smoke test on the template: a last line of its description,
# `[day2ops: failed smoke test: <version ext_id>, ...]`. A rollback skips them unless asked explicitly.
SMOKE_FAILED = re.compile(r"\s*\[day2ops: failed smoke test: ([^\]]*)\]\s*$")
SMOKE_FAILED_LINE = "[day2ops: failed smoke test: %s]"
DESCRIPTION_MAX = 1000


def smoke_failed_ext_ids(description):
    """The ext_ids of the versions the template's description records as failed in their smoke test."""
    found = SMOKE_FAILED.search(description or "")
    return [i.strip() for i in found.group(1).split(",") if i.strip()] if found else []


def with_smoke_failed(description, ext_id, version_ext_ids=None):
    """The template's description with `ext_id` recorded as failed in its smoke test; versions no longer in
    `version_ext_ids` (when given) are dropped, and the oldest records when the description would pass
    Prism's 1000 characters."""
    text = SMOKE_FAILED.sub("", description or "").rstrip()
    ids = [i for i in smoke_failed_ext_ids(description) if i != ext_id]
    if version_ext_ids is not None:
        ids = [i for i in ids if i in version_ext_ids]
    ids.append(ext_id)
    while True:
        line = SMOKE_FAILED_LINE % ", ".join(ids)
        room = DESCRIPTION_MAX - len(line) - 1
        if len(text) <= room or len(ids) == 1:
            return ("%s\n%s" % (text[: max(room, 0)].rstrip(), line)).lstrip()
        ids.pop(0)


def read(client, ext_id):
    """(template, etag)."""
    return _vmm.read_template(client, ext_id)


def list_templates(client, odata_filter=None, order_by="templateName", limit=None):
    """Templates by OData, by name unless `order_by` says otherwise."""
    params = {}
    if odata_filter:
        params["$filter"] = odata_filter
    if order_by:
        params["$orderby"] = order_by
    return _vmm.list_templates(client, params, limit)


def find(client, ext_id=None, name=None, required=True):
    """The template an ext_id or a name designates; None when it is absent and not `required`."""
    if ext_id:
        return unless_gone(lambda: read(client, ext_id)[0], required)
    matches = list_templates(client, "templateName eq %s" % odata_quote(name))
    if not matches and not required:
        return None
    return pick_one(
        "template", name, matches, lambda t: "%s (updated %s)" % (t["extId"], t.get("updateTime"))
    )


def versions(client, template_ext_id, odata_filter=None):
    """The template's versions, oldest first."""
    params = {"$orderby": "createTime"}
    if odata_filter:
        params["$filter"] = odata_filter
    return _vmm.list_template_versions(client, template_ext_id, params)


def find_version(client, template, version, required=True):
    """A version of `template` given by name or ext_id; None when it is absent and not `required`."""
    label = "template '%s'" % template.get("templateName")
    if is_ext_id(version):
        matches = [v for v in versions(client, template["extId"]) if v.get("extId") == version]
    else:
        matches = versions(client, template["extId"], "versionName eq %s" % odata_quote(version))
    if not matches and not required:
        return None
    if not matches:
        raise ApiError(
            "find version '%s' of %s" % (version, label),
            "the template has no such version",
            status=404,
            hint="list its versions with day2ops.ahv.template_info versions=true",
        )
    return pick_one(
        "version of %s" % label,
        version,
        matches,
        lambda v: "%s (created %s)" % (v["extId"], v.get("createTime")),
    )


def active_version(template):
    return template.get("templateVersionSpec") or {}


def override(options):
    """The VmConfigOverride of the module option `override` (memory in MiB)."""
    out = {}
    for option, field in _OVERRIDE_FIELDS.items():
        if (options or {}).get(option) is not None:
            out[field] = options[option]
    if (options or {}).get("memory_mib") is not None:
        out["memorySizeBytes"] = options["memory_mib"] * 1024 * 1024
    return out


def update_body(template, description=None, version_spec=None):
    """The Template a PUT sends: only fields a client may set (vmm 4.0.1 Template: templateName,
    templateDescription, and templateVersionSpec to add a version), never the template as read.

    A GET's read-only fields (extId, createTime, createdBy, updatedBy, guestUpdateStatus, and the active
    version under templateVersionSpec with its extId) are no request: nutanix.ncp 2.5.0 clears
    templateVersionSpec.extId before every update and terraform-provider-nutanix sends only what changed.
    """
    body = {"templateName": template["templateName"]}
    if description is not None:
        body["templateDescription"] = description
    if version_spec is not None:
        body["templateVersionSpec"] = version_spec
    return body


def deployed_vm_ext_ids(client, task, action):
    """The VMs a deploy task names. Prism names them in the subtasks' entitiesAffected (one per VM; an
    inference from its samples, not documented), not in the task."""
    subtasks = subtask_ext_ids(task)
    found = []
    for subtask in client.tasks(subtasks, action) if subtasks else []:
        found.extend(affected(subtask, _vmm.VM_REL))
    return found or affected(task, _vmm.VM_REL)


def deployed_vms(client, task, count, names, action):
    """The VMs a finished deploy task made, in the order of `names` when it named them.

    Named VMs are found by name, as nutanix.ncp finds them, and checked against the VMs the task names;
    unnamed ones (Prism chose the names) can only come from the task. Any VM missing, or the two
    disagreeing, is an ApiError that says which.
    """
    task_vm_ext_ids = deployed_vm_ext_ids(client, task, action)
    if names:
        named = client.map(lambda name: vms_named(client, name, action), names)
        return match_deployed(task.get("extId"), names, named, task_vm_ext_ids, action)
    if len(task_vm_ext_ids) != count:
        raise ApiError(
            action,
            "deploy task %s names %d new VM(s) (%s), not the %d deployed"
            % (task.get("extId"), len(task_vm_ext_ids), ", ".join(task_vm_ext_ids) or "none", count),
            hint="give vm_names, so that the new VMs can be found by name",
        )
    return client.map(lambda ext_id: _vmm.read_vm(client, ext_id, action)[0], task_vm_ext_ids)


def match_deployed(task_ext_id, names, named, task_vm_ext_ids, action):
    """[vm] for each of `names`, from `named` (the VMs that carry each name), cross-checked against the
    VMs the task names: a name may be an older VM's too, and the task decides then. With a task that names
    no VM the names alone decide, when each is one VM's."""
    in_task = set(task_vm_ext_ids)
    picked, problems = [], []
    for name, candidates in zip(names, named):
        mine = [vm for vm in candidates if vm["extId"] in in_task] if in_task else candidates
        if len(mine) == 1:
            picked.append(mine[0])
        elif not candidates:
            problems.append("no VM is named '%s'" % name)
        elif not mine:
            problems.append(
                "the VM(s) named '%s' (%s) are none of those the task names"
                % (name, ", ".join(vm["extId"] for vm in candidates))
            )
        else:
            problems.append(
                "%d VMs are named '%s' (%s)" % (len(mine), name, ", ".join(vm["extId"] for vm in mine))
            )
    strays = sorted(in_task - set(vm["extId"] for vm in picked))
    if strays and not problems:
        problems.append("the task also names VM(s) %s, which carry none of the names" % ", ".join(strays))
    if problems:
        raise ApiError(
            action,
            "deploy task %s: %s; the task names VM(s) %s"
            % (task_ext_id, "; ".join(problems), ", ".join(task_vm_ext_ids) or "none"),
            hint="check the new VMs in Prism Central (day2ops.ahv.task_info ext_id=%s) and remove those "
            "that should not be there" % task_ext_id,
        )
    return picked


def subtask_ext_ids(task):
    return [s.get("extId") for s in task.get("subTasks") or [] if s.get("extId")]


def version_summary(version):
    """The same keys for every version a module returns; the raw TemplateVersionSpec under `version`."""
    source = version.get("versionSource") or {}
    vm = version.get("vmSpec") or {}
    sockets, cores = vm.get("numSockets"), vm.get("numCoresPerSocket")
    memory = vm.get("memorySizeBytes")
    return dict(
        ext_id=version.get("extId"),
        name=version.get("versionName"),
        description=version.get("versionDescription"),
        active=bool(version.get("isActiveVersion")),
        create_time=version.get("createTime"),
        source_vm_ext_id=source.get("extId") if source.get("$objectType") == VM_SOURCE else None,
        source_version_ext_id=source.get("versionId"),
        cluster_ext_id=(vm.get("cluster") or {}).get("extId"),
        vcpus=sockets * cores * (vm.get("numThreadsPerCore") or 1) if sockets and cores else None,
        memory_mib=memory // (1024 * 1024) if memory is not None else None,
        version=version,
    )


def summary(template):
    """The same keys for every template a module returns; the raw Template under `template`."""
    active = active_version(template)
    return dict(
        ext_id=template.get("extId"),
        name=template.get("templateName"),
        description=template.get("templateDescription"),
        smoke_failed_version_ext_ids=smoke_failed_ext_ids(template.get("templateDescription")),
        active_version_ext_id=active.get("extId"),
        active_version_name=active.get("versionName"),
        guest_update_vm_ext_id=(template.get("guestUpdateStatus") or {}).get("deployedVmReference"),
        create_time=template.get("createTime"),
        update_time=template.get("updateTime"),
        template=template,
    )
