# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

The preflight behind `day2ops doctor` and day2ops.ahv.doctor_info: against a real Prism Central
(and Move and vCenter when given), each read a day2ops flow makes is tried once, the way the flow
makes it, and reported as one check that names the flow and, when it fails, the fix. Nothing is
changed: Prism Central is only sent GET and OPTIONS; Move and vCenter their login, GETs, and the
POSTs by which Move lists.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import time

from ansible_collections.day2ops.ahv.plugins.module_utils import (
    _clustermgmt,
    _dataprotection,
    _prism_config,
    _vmm,
)
from ansible_collections.day2ops.ahv.plugins.module_utils._chargeback import CHARGEBACK_FIELDS
from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError, TlsError
from ansible_collections.day2ops.ahv.plugins.module_utils._lookup import CategoryIndex
from ansible_collections.day2ops.ahv.plugins.module_utils._move import BASE as MOVE_BASE
from ansible_collections.day2ops.ahv.plugins.module_utils._move import PAGE as MOVE_PAGE
from ansible_collections.day2ops.ahv.plugins.module_utils._move import (
    MoveClient,
    workload_shapes,
    workload_statuses,
)
from ansible_collections.day2ops.ahv.plugins.module_utils._prism import NAMESPACES, _is_version, version_minor
from ansible_collections.day2ops.ahv.plugins.module_utils._recovery_points import (
    for_vm_filter,
    list_recovery_points,
)
from ansible_collections.day2ops.ahv.plugins.module_utils._templates import list_templates
from ansible_collections.day2ops.ahv.plugins.module_utils._templates import versions as template_versions
from ansible_collections.day2ops.ahv.plugins.module_utils._v4 import odata_quote
from ansible_collections.day2ops.ahv.plugins.module_utils._vcenter import VCenterClient
from ansible_collections.day2ops.ahv.plugins.module_utils._vms import (
    POWER_STATES,
    SUMMARY_FIELDS,
    server_filter,
)

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
EVERY_FLOW = "all flows"
SKEW_WARN_SECONDS = 30
PRISM_CA_OPTION = "ca_path (NUTANIX_CA_PATH)"
MOVE_CA_OPTION = "move ca_path (MOVE_CA_PATH)"
VCENTER_CA_OPTION = "vcenter ca_path (VMWARE_CA_PATH)"
# A cheap list per namespace, to find the versions an older Prism Central serves when it does not
# answer OPTIONS .../unversioned/info; probed from the newest segment any SDK release has, down.
VERSION_PROBES = {
    _vmm.NAMESPACE: (_vmm.VMS, 3),
    _prism_config.NAMESPACE: (_prism_config.TASKS, 4),
    _clustermgmt.NAMESPACE: (_clustermgmt.CLUSTERS, 3),
    _dataprotection.NAMESPACE: (_dataprotection.RECOVERY_POINTS, 4),
}
NAMESPACE_FLOWS = {
    "vmm": "inventory, safe patch, templates",
    "prism": EVERY_FLOW,
    "clustermgmt": "DR, templates, migration",
    "dataprotection": "safe patch, DR, DR drill",
}


def check(name, flow, status, detail, fix=None):
    """One line of the report."""
    return dict(name=name, flow=flow, status=status, detail=detail, fix=fix)


def tls_fix(host, port, option):
    return (
        "set %s to the CA bundle that signed its certificate; to see the chain it sends, run "
        "openssl s_client -connect %s:%s -showcerts </dev/null (the last certificate is the CA: confirm "
        "its fingerprint with the administrator before trusting it)" % (option, host, port)
    )


def clock_skew(date_header, now):
    """Seconds the server's clock is ahead of ours (negative: behind), from an HTTP Date header."""
    if not date_header:
        return None
    try:
        return email.utils.parsedate_to_datetime(date_header).timestamp() - now
    except (TypeError, ValueError):
        return None


def skew_check(date_header, now):
    skew = clock_skew(date_header, now)
    name, flow = "clock skew", "safe patch, DR (expiry times)"
    if skew is None:
        return check(name, flow, SKIP, "the answer carried no readable Date header")
    detail = "Prism Central's clock is %+.0f s from this host's" % skew
    if abs(skew) > SKEW_WARN_SECONDS:
        return check(name, flow, WARN, detail, "sync this host and Prism Central to the same NTP servers")
    return check(name, flow, OK, detail)


def task_id_form(ext_id):
    """A task id's form: `ZXJnb24=:<uuid>` is base64 of 'ergon' (the task service), a colon, a UUID."""
    prefix, colon, rest = ext_id.partition(":")
    if colon:
        try:
            service = base64.b64decode(prefix, validate=True).decode("ascii")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            service = None
        if service:
            return "%s:<uuid> (base64 of '%s', then the task UUID)" % (prefix, service)
        return "%s:<%d characters>" % (prefix, len(rest))
    return "a bare UUID" if len(ext_id) == 36 else "%d characters" % len(ext_id)


def served_version(transport, namespace):
    """(the newest version Prism Central serves for the namespace or None, how that was learnt)."""
    action = "ask which %s API versions Prism Central serves" % namespace
    path = "/api/%s/unversioned/info" % namespace
    response = transport.request("OPTIONS", path, action)
    if response.status_code == 200:
        try:
            body = response.json()
        except ValueError:
            body = None
        data = body.get("data") if isinstance(body, dict) else None
        if _is_version(data):
            return data, "by OPTIONS unversioned/info"
    # Prism Centrals before the SDK 4.2 negotiation do not answer it: the newest list that is no 404.
    probe, newest = VERSION_PROBES[namespace]
    for minor in range(newest, -1, -1):
        version = "v4.%d" % minor
        listed = "/api/%s/%s/%s" % (namespace, version, probe)
        if transport.request("GET", listed, action, params={"$limit": 1}).status_code != 404:
            return version, "no OPTIONS unversioned/info; GET %s answers" % listed
    return None, "neither OPTIONS %s nor GET /api/%s/v4.0/%s answered" % (path, namespace, probe)


def version_checks(client):
    """(a check per namespace, the versions found, the namespaces whose configured version is not served)."""
    checks, versions, broken = [], {}, set()
    for namespace in NAMESPACES:
        served, how = served_version(client.transport, namespace)
        configured = client.versions[namespace]
        versions[namespace] = dict(served=served, configured=configured, how=how)
        name, flow = "%s API version" % namespace, NAMESPACE_FLOWS[namespace]
        if served is None:
            checks.append(
                check(
                    name,
                    flow,
                    WARN,
                    "could not tell which versions it serves: %s" % how,
                    "check that nutanix_host is Prism Central, not a Prism Element cluster",
                )
            )
        elif version_minor(configured) > version_minor(served):
            broken.add(namespace)
            checks.append(
                check(
                    name,
                    flow,
                    FAIL,
                    "day2ops is set to call %s %s; this Prism Central serves up to %s (%s)"
                    % (namespace, configured, served, how),
                    "set api_versions: {%s: %s}, or leave %s out (v4.0, the default, is served by every GA "
                    "release)" % (namespace, served, namespace),
                )
            )
        else:
            span = served if served == "v4.0" else "v4.0 to %s" % served
            checks.append(check(name, flow, OK, "%s served (%s); day2ops calls %s" % (span, how, configured)))
    return checks, versions, broken


def refused(name, flow, operation, err):
    """The check of a read Prism Central refused, with the fix its status calls for."""
    detail = "%s: %s%s" % (operation, "%s " % err.status if err.status else "", err.message)
    if err.status == 403:
        fix = (
            "give the account a Prism Central role (IAM authorization policy) that allows %s, for the "
            "entities the flow acts on" % operation
        )
    elif err.status == 400:
        fix = (
            "this Prism Central rejects a query option or field that %s uses: report it to day2ops with "
            "the versions above" % flow
        )
    else:
        fix = err.hint
    return check(name, flow, FAIL, detail, fix)


# -- the reads each flow makes ---------------------------------------------------------------
# Each returns (status, detail) or (status, detail, fix); `seen` carries what one read found to the next.


def _list_vms(client, seen):
    items, total = _vmm.page_vms(client, {"$limit": 1})
    seen["vm"] = items[0] if items else None
    if not items:
        return WARN, "the account sees no VMs", "check that the role's scope covers the VMs the flows act on"
    return OK, "%d VMs visible" % total


def _vm_odata(client, seen):
    vm = seen.get("vm")
    if not vm:
        return SKIP, "no VM to query with"
    state = dict((v, k) for k, v in POWER_STATES.items()).get(vm.get("powerState"))
    flt = server_filter(
        client, "name eq %s" % odata_quote(vm.get("name")), (vm.get("cluster") or {}).get("extId"), state
    )
    fields = sorted(set(SUMMARY_FIELDS) | set(CHARGEBACK_FIELDS))
    params = {"$select": ",".join(fields), "$filter": flt, "$orderby": "name", "$limit": 1}
    items, _total = _vmm.page_vms(client, params, "list VMs with OData")
    if not [v for v in items if v.get("extId") == vm.get("extId")]:
        return WARN, "the $filter built from VM '%s' did not find it: %s" % (vm.get("name"), flt)
    return OK, "$select (%d fields), $filter on name, cluster/extId, powerState, and $orderby work" % len(
        fields
    )


def _vm_etag(client, seen):
    vm = seen.get("vm")
    if not vm:
        return SKIP, "no VM to read"
    _data, etag = _vmm.read_vm(client, vm["extId"])
    if not etag:
        return (
            FAIL,
            "GET of VM '%s' carried no ETag (nor X-Ntnx-Etag) header" % vm.get("name"),
            "every update sends If-Match with it: check that no proxy between here and Prism Central "
            "drops the ETag header",
        )
    return OK, "GET of VM '%s' carries an ETag (updates send it as If-Match)" % vm.get("name")


def _categories(client, seen):
    refs = ((seen.get("vm") or {}).get("categories")) or []
    if refs:
        ext_id = refs[0]["extId"]
    else:
        items, _total = _prism_config.page_categories(client, {"$limit": 1})
        if not items:
            return (
                WARN,
                "the account sees no Categories",
                "the flows scope VMs by Category: create them or widen the role",
            )
        ext_id = items[0]["extId"]
    category, _etag = _prism_config.read_category(
        client, ext_id, "read the associations of Category %s" % ext_id, {"$expand": "detailedAssociations"}
    )
    pair = "%s:%s" % (category.get("key"), category.get("value"))
    index = CategoryIndex.load(client, keys=[category.get("key")])
    if ext_id not in index.by_id:
        return WARN, "$filter key eq '%s' did not list Category %s" % (category.get("key"), pair)
    return OK, "%s: $filter on key and $expand=detailedAssociations work (%d associations)" % (
        pair,
        len(category.get("detailedAssociations") or []),
    )


def _recovery_points(client, seen):
    vm = seen.get("vm")
    flt = for_vm_filter(vm["extId"]) if vm else None
    points = list_recovery_points(client, flt, "creationTime desc", limit=1)
    return OK, "listed%s, newest first: %d found" % (
        " for VM '%s' ($filter on vmRecoveryPoints)" % vm.get("name") if vm else "",
        len(points),
    )


def _clusters(client, seen):
    clusters = _clustermgmt.list_clusters(client)
    ahv = sorted(c.get("name") or c.get("extId") for c in clusters if not _clustermgmt.is_prism_central(c))
    # Which cluster replicates to which (protection policies) is in no namespace day2ops reads.
    if len(ahv) >= 2:
        return OK, "%d AHV clusters to replicate between: %s" % (len(ahv), ", ".join(ahv))
    if ahv:
        return (
            WARN,
            "one cluster (%s): DR needs a second cluster or a paired Prism Central" % ahv[0],
            "for DR to a paired Prism Central, give its ext_id as dr_replicate_pc_ext_id",
        )
    return FAIL, "the account sees no cluster", "give the account's role the clusters the flows use"


def _templates(client, seen):
    templates = list_templates(client, order_by="templateName", limit=1)
    if not templates:
        return OK, "the template API answers; there are no templates yet"
    found = template_versions(client, templates[0]["extId"])
    return OK, "template '%s': %d versions ($orderby createTime works)" % (
        templates[0].get("templateName"),
        len(found),
    )


def _tasks(client, seen):
    items, _total = _prism_config.page_tasks(client, {"$limit": 1})
    if not items:
        return OK, "tasks can be listed; none yet, so the id form shows after the first change"
    ext_id = items[0]["extId"]
    client.task(ext_id)
    client.tasks([ext_id], "poll tasks by $filter on extId")
    return OK, "task ids read as %s; GET by id and $filter on extId work" % task_id_form(ext_id)


# (check name, flow, namespaces it reads, the SDK operations it tries, the read)
READS = (
    ("list VMs", "inventory, chargeback, catalog", ("vmm",), "list_vms", _list_vms),
    ("VM OData fields", "inventory, chargeback, catalog", ("vmm",), "list_vms", _vm_odata),
    (
        "VM ETag",
        "safe patch, DR drill, templates",
        ("vmm",),
        "get_vm_by_id",
        _vm_etag,
    ),
    (
        "Category associations",
        "inventory, chargeback, DR",
        ("prism",),
        "list_categories, get_category_by_id",
        _categories,
    ),
    (
        "recovery points",
        "safe patch, DR, DR drill, catalog",
        ("dataprotection",),
        "list_recovery_points",
        _recovery_points,
    ),
    ("clusters for DR", "DR, DR drill, migration", ("clustermgmt",), "list_clusters", _clusters),
    ("templates", "templates", ("vmm",), "list_templates, list_template_versions", _templates),
    ("tasks", "all flows that change things", ("prism",), "list_tasks, get_task_by_id", _tasks),
)


def read_checks(client, broken):
    checks, seen = [], {}
    for name, flow, namespaces, operation, read in READS:
        blocked = [ns for ns in namespaces if ns in broken]
        if blocked:
            checks.append(check(name, flow, SKIP, "the %s version day2ops calls is not served" % blocked[0]))
            continue
        try:
            outcome = read(client, seen)
        except ApiError as err:
            if err.status == 501:  # the simulator's answer for an operation it does not implement
                checks.append(check(name, flow, SKIP, "%s: not served here" % operation))
            else:
                checks.append(refused(name, flow, operation, err))
            continue
        checks.append(check(name, flow, *outcome))
    return checks


def connection_checks(client, options, now):
    """TLS, authentication and clock skew from one cheap read; (checks, whether to go on)."""
    transport = client.transport
    host, port = options["nutanix_host"], options.get("nutanix_port") or 9440
    try:
        response = transport.request(
            "GET", _clustermgmt.clusters_path(client), "reach Prism Central", params={"$limit": 1}
        )
    except TlsError as err:
        return [check("TLS", EVERY_FLOW, FAIL, err.message, tls_fix(host, port, PRISM_CA_OPTION))], False
    except ApiError as err:
        return [check("reach Prism Central", EVERY_FLOW, FAIL, err.message, err.hint)], False
    checks = []
    if transport.verify is False:
        checks.append(
            check(
                "TLS",
                EVERY_FLOW,
                WARN,
                "validate_certs is off: the certificate of %s is not checked" % transport.base_url,
                "turn validate_certs on; " + tls_fix(host, port, PRISM_CA_OPTION),
            )
        )
    else:
        by = options.get("ca_path") or "the system's CA bundle"
        checks.append(check("TLS", EVERY_FLOW, OK, "certificate verified with %s" % by))
    if options.get("nutanix_api_key"):
        mode = "API key (X-ntnx-api-key)"
        fix = "check nutanix_api_key (NUTANIX_API_KEY): whole, not expired, its service account enabled"
    else:
        mode = "basic, user '%s'" % options.get("nutanix_username")
        fix = "check nutanix_username and nutanix_password (NUTANIX_USERNAME, NUTANIX_PASSWORD)"
    if response.status_code == 401:
        checks.append(
            check("authentication", EVERY_FLOW, FAIL, "Prism Central answered 401 to %s" % mode, fix)
        )
        return checks, False
    checks.append(check("authentication", EVERY_FLOW, OK, mode))
    checks.append(skew_check(response.headers.get("Date"), now()))
    return checks, True


ROLE_DATA = check(
    "role data",
    EVERY_FLOW,
    SKIP,
    "not read: roles are in the iam API, which day2ops does not call (nor the simulator serve); "
    "each read a flow makes was tried above instead",
)


# -- Move and vCenter: the reads the migration flow makes ------------------------------------------
# Each returns (status, detail) or (status, detail, fix). The first call logs in (Move's
# POST /move/v2/users/login, vCenter's POST /api/session); the rest are GETs, and POSTs that only
# list, which is how Move lists. Nothing is created, started or deleted, and the vCenter session
# is left to idle out, since ending it would be a DELETE.
MIGRATION = "migration"
VM_LIST_CAP_FIX = (
    "select each wave's VMs by cluster, folder or tag (a wave group's tags; vcenter_vm_info's clusters, "
    "folders or tags) so that no list matches more than vCenter returns at once (4000 on vSphere 7 and 8)"
)
PAGING_FIX = (
    "nothing blocks a plan; but move_provider_info lists only the VMs Move paged (inventory_complete: "
    "false): look a VM up with its query option, and report GET /move/v2/appinfo's version to day2ops"
)


def _move_login(client):
    info = client.call("GET", MOVE_BASE + "/appinfo", "read Move's version")
    # Where the version is is known from one source each [L/R]: Status.Version, else Version.
    version = (info.get("Status") or {}).get("Version") or info.get("Version") or "(version not in appinfo)"
    return OK, "Move %s at %s, user '%s'" % (version, client.transport.base_url, client.username)


def is_source(provider):
    """A VMware source provider. Move's read-back Type for one is known from no source [R], so its
    ESXAccessInfo [C] or Role 1 [L] tells."""
    spec = provider["Spec"]
    return "ESXAccessInfo" in spec or spec.get("Role") == 1


def inventory_line(name, discovered, count, read):
    """One source provider's inventory, as Move counts it and as paging read it."""
    parts = ["NumDiscoveredWorkloads %s" % discovered] if discovered is not None else []
    parts.append("MetaData.Count %s" % count)
    pages = max(1, -(-read // MOVE_PAGE))
    parts.append("%d VMs in %d page%s of %d" % (read, pages, "" if pages == 1 else "s", MOVE_PAGE))
    return "'%s': %s" % (name, ", ".join(parts))


def _provider_inventory(client, provider):
    """(whether paging reached Move's count, the provider's line)."""
    inventory = client.source_inventory(provider["MetaData"]["UUID"])
    line = inventory_line(
        provider["Spec"].get("Name"),
        provider["MetaData"].get("NumDiscoveredWorkloads"),
        inventory.count,
        len(inventory.vms),
    )
    return inventory.complete, line


def _move_inventory(client):
    sources = [p for p in client.providers() if is_source(p)]
    if not sources:
        return (
            WARN,
            "Move has no VMware source provider",
            "add the vCenter to Move: day2ops.ahv.move_provider with type: vcenter",
        )
    read = [_provider_inventory(client, p) for p in sources]
    detail = "; ".join(line for _complete, line in read)
    if all(complete for complete, _line in read):
        return OK, detail
    return (
        WARN,
        "%s; Move would not page to its count (AfterOffset is ignored): day2ops then looks VMs up by name, "
        "so a plan's VMs past page 1 are found that way" % detail,
        PAGING_FIX,
    )


def _move_plan_api(client):
    plans = client.plans()
    if not plans:
        return OK, "POST plans/list answers; no plans to read"
    meta = plans[0]["MetaData"]
    plan = client.plan(meta["UUID"])
    # The answer as it came, to say which shapes it holds; client.workloads would flatten it.
    answer = client.workloads_answer(meta["UUID"], meta["Name"])
    # An answer in no known shape fails here, naming its keys.
    vms = workload_statuses(answer, "read the VMs of Move plan '%s'" % meta["Name"])
    return OK, "plans/list: %d; plan '%s': GET answers with %s; workloads/list with %s (VMs: %d)" % (
        len(plans),
        meta["Name"],
        ", ".join(key for key in ("MetaData", "Spec", "Status") if key in plan),
        " and ".join(workload_shapes(answer)),
        len(vms),
    )


def _vcenter_login(client):
    # Which user the session is for: a wrong account shows here before its privileges fail a read.
    session = client.call("GET", "/api/session", "read the vCenter session") or {}
    return OK, "session for '%s' at %s" % (session.get("user"), client.transport.base_url)


def _vm_count(client):
    """How many VMs vCenter lists; None when they are more than one list may return, which vCenter
    refuses with 400 UNABLE_TO_ALLOCATE_RESOURCE rather than truncating [C: the cap, L: the error]."""
    try:
        return len(client.list_vms())
    except ApiError as err:
        if err.code == "UNABLE_TO_ALLOCATE_RESOURCE":
            return None
        raise


def _vcenter_inventory(client):
    clusters = client.call("GET", "/api/vcenter/cluster", "list vCenter clusters") or []
    categories = client.call("GET", "/api/cis/tagging/category", "list vCenter tag categories") or []
    # The lookup a wave's folder names go through: only a VM folder holds VMs.
    folders = (
        client.call(
            "GET", "/api/vcenter/folder", "list vCenter VM folders", params={"type": "VIRTUAL_MACHINE"}
        )
        or []
    )
    detail = "%d clusters (%s), %d tag categories, %d VM folders" % (
        len(clusters),
        ", ".join(c["name"] for c in clusters),
        len(categories),
        len(folders),
    )
    vms = _vm_count(client)
    if vms is None:
        return (
            WARN,
            detail + "; more VMs than one list returns (400 UNABLE_TO_ALLOCATE_RESOURCE)",
            VM_LIST_CAP_FIX,
        )
    return OK, "%s, %d VMs" % (detail, vms)


MOVE_READS = (
    ("Nutanix Move login", _move_login),
    ("Nutanix Move inventory", _move_inventory),
    ("Nutanix Move plan API", _move_plan_api),
)
VCENTER_READS = (("vCenter login", _vcenter_login), ("vCenter inventory", _vcenter_inventory))


# (client class, its reads, its options' prefix, the option that names its CA bundle)
MOVE = (MoveClient, MOVE_READS, "move", MOVE_CA_OPTION)
VCENTER = (VCenterClient, VCENTER_READS, "vcenter", VCENTER_CA_OPTION)


def _service_read(name, read, client, tls_hint):
    try:
        return check(name, MIGRATION, *read(client))
    except TlsError as err:
        return check(name, MIGRATION, FAIL, err.message, tls_hint)
    except ApiError as err:
        status = "%s " % err.status if err.status else ""
        return check(name, MIGRATION, FAIL, "%s: %s%s" % (err.action, status, err.message), err.hint)


def service_checks(service, options):
    """Move's or vCenter's reads, one check each; the first logs in, so the rest wait on it."""
    client_class, reads, prefix, ca_option = service
    client = client_class.from_options(options)
    tls_hint = tls_fix(options[prefix + "_host"], options.get(prefix + "_port") or 443, ca_option)
    checks = []
    for name, read in reads:
        if checks and checks[0]["status"] == FAIL:
            checks.append(check(name, MIGRATION, SKIP, "not tried: %s failed" % checks[0]["name"]))
        else:
            checks.append(_service_read(name, read, client, tls_hint))
    return checks


def examine(client, options, move_options=None, vcenter_options=None, now=time.time):
    """The report: checks, versions and what failed. `options` are the Prism connection options."""
    checks, go_on = connection_checks(client, options, now)
    versions = {}
    if go_on:
        found, versions, broken = version_checks(client)
        checks.extend(found)
        checks.extend(read_checks(client, broken))
        checks.append(dict(ROLE_DATA))
    if move_options:
        checks.extend(service_checks(MOVE, move_options))
    if vcenter_options:
        checks.extend(service_checks(VCENTER, vcenter_options))
    failed = [c["name"] for c in checks if c["status"] == FAIL]
    counts = dict((s, len([c for c in checks if c["status"] == s])) for s in (OK, WARN, FAIL, SKIP))
    return dict(
        prism_central=client.transport.base_url,
        passed=not failed,
        checks=checks,
        versions=versions,
        failed_checks=failed,
        counts=counts,
    )
