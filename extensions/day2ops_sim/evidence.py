"""How sure the simulator is of each Move and vCenter behaviour it models, in step with the reference
docs/reference/move-vcenter-api.md: one marker per operation it serves and per behaviour that matters,
listed by `GET /_sim/coverage` under `move` and `vcenter`.

A marker carries the reference's letter (C confirmed: official or two sources; L likely: one source;
R reconstruction: none, the simulator's choice), the reference's source keys (S1..S9 Move, V1..V3
vCenter; its section D), the section it comes from, and a note. Where the reference splits a row
("C / R"), the marker takes one letter and its note says which part is which, each in brackets.
Whether an operation is served comes from the FastAPI routers themselves, never from this table.
"""

from dataclasses import dataclass

from fastapi import APIRouter
from fastapi.routing import APIRoute


@dataclass(frozen=True)
class Marker:
    conf: str
    sources: tuple[str, ...]
    section: str
    note: str
    method: str = ""
    path: str = ""
    # `action=...` for the vCenter operations that share one path and differ by their action.
    query: str = ""
    behaviour: str = ""

    def wire(self, served: set[tuple[str, str]]) -> dict:
        out = {k: v for k, v in vars(self).items() if v != ""}
        out["sources"] = list(self.sources)
        if self.method:
            out["served"] = (self.method, self.path) in served
        return out


def op(call: str, evidence: str, note: str) -> Marker:
    """`call` as "POST /path/{param}?action=x", the path template as the simulator serves it."""
    method, _, target = call.partition(" ")
    path, _, query = target.partition("?")
    return Marker(*_evidence(evidence), note, method=method, path=path, query=query)


def behaviour(key: str, evidence: str, note: str) -> Marker:
    return Marker(*_evidence(evidence), note, behaviour=key)


def _evidence(evidence: str) -> tuple[str, tuple[str, ...], str]:
    """The letter, the reference's section, then its source keys (none for most R): "C A7 S2 S3"."""
    conf, section, *sources = evidence.split()
    return conf, tuple(sources), section


MOVE = (
    op(
        "POST /move/v2/users/login",
        "C A2 S2 S3 S4",
        "Spec.UserName/Password -> Status.Token; ExpiryDate from one module [L] (S6); bad password 401",
    ),
    op("POST /move/v2/token/revoke", "C A2 S1 S2", "Spec.Token revoked; that token then answers 401"),
    op("GET /move/v2/appinfo", "L A1 S6 S7", "Status.Version; the field's name is uncertain [R]"),
    op(
        "POST /move/v2/providers/list",
        "C A4 S2 S4 S5 S7",
        "Entities[] of providers; the integer Role filter (1 source, 2 target) from one lab script [L]",
    ),
    op(
        "POST /move/v2/providers",
        "C A4 S3 S7",
        "Spec.Type ESXI or AOS with its *AccessInfo -> 201 MetaData.UUID; a duplicate name's 409 is ours [R]",
    ),
    op(
        "GET /move/v2/providers/{uuid}",
        "C A4 S4 S5 S6",
        "Spec.AOSProperties.Clusters[] with their Containers and Networks, for the plan's target",
    ),
    op(
        "DELETE /move/v2/providers/{uuid}",
        "R A3",
        "no source names it; refused with 409 while a plan uses the provider",
    ),
    op(
        "POST /move/v2/providers/{uuid}/workloads/list",
        "C A5 S2 S3 S5 S6",
        "flat Entities[] with VMUuid = instance_uuid and VmID = MoRef; MetaData.Count of all matches",
    ),
    op(
        "POST /move/v2/plans/list",
        "C A9 S2 S4 S5",
        "Entities[] of plans; VMStatus[] with IncludeEntityDetails/IncludeVMDetails (query or Spec)",
    ),
    op("GET /move/v2/plans", "L A3 S6 S7", "the GET variant of plans/list, same answer"),
    op(
        "POST /move/v2/plans",
        "C A6 S2 S3 S4 S5",
        "Spec with SourceInfo, TargetInfo, NetworkMappings, Workload.VMs -> 201 MetaData.UUID and Spec",
    ),
    op("GET /move/v2/plans/{uuid}", "C A9 S4", "the plan with MetaData.State, StateString and VMStatus[]"),
    op("DELETE /move/v2/plans/{uuid}", "C A7 S3 S4", "once DELETE is among the plan's Actions"),
    op(
        "POST /move/v2/plans/{uuid}/prepare",
        "C A8 S2 S3",
        "Spec.CommonCredentials and per-VM Spec.VMs[] credentials; re-POSTed until Status.Result "
        "Passed or Failed is non-null (S3)",
    ),
    op(
        "POST /move/v2/plans/{uuid}/readiness",
        "C A8 S3 S5",
        "Status.Passed/Failed and VMChecksResult.Failed; the CheckType names and reasons are ours [R]",
    ),
    op(
        "POST /move/v2/plans/{uuid}/start",
        "C A7 S2 S3 S4 S5 S6",
        "202; 409 while in progress (S4 logs); Spec.Time (S2) or Spec.Frequency (S5) accepted",
    ),
    op(
        "POST /move/v2/plans/{uuid}/suspend",
        "L A7 S4",
        "200; plan state 5 MigrationPlanStatePaused, which A7 says was seen [C]",
    ),
    op("POST /move/v2/plans/{uuid}/resume", "L A7 S4", "200; seeding goes on where it paused"),
    op(
        "POST /move/v2/plans/{uuid}/cancel",
        "R A7 S4",
        "S4's docstring only: cleanup, plan state 6 Aborted; experimental in the modules",
    ),
    op(
        "POST /move/v2/plans/{uuid}/abort",
        "R A14 S4",
        "an alias of /cancel as A14 advises; S4 probed /abort with no recorded result",
    ),
    op(
        "POST /move/v2/plans/{uuid}/workloads/list",
        "C A9 S3",
        "Status.Actions and Status.VMStatus[] as S3 reads them; the Entities shape is its own marker",
    ),
    op(
        "POST /move/v2/plans/{uuid}/workloads/{vm_uuid}/action",
        "C A7 S2 S3 S5 S6",
        "lowercase Spec.Action (cutover, test, undotest, retest) on the source instance UUID, "
        "allowed when the VM's uppercase Actions hold it",
    ),
    behaviour(
        "request_keys_any_case",
        "L A1 S2 S7",
        "Spec/spec, UserName/username alike: an inference from clients sending both (Go encoding/json)",
    ),
    behaviour(
        "authorization_forms",
        "L A2 S1 S2 S3 S4 S5",
        "[C] the token goes in Authorization; [L] Move takes both `Bearer <jwt>` and the bare token",
    ),
    behaviour(
        "token_ttl_900s",
        "R A2 S7 S6",
        "[R] a token lasts 900 s (about 15 min per one client, S7); [L] /users/login gives no refresh "
        "token (S6); an expired one answers 401 and clients log in again",
    ),
    behaviour(
        "error_code_field",
        "R A11 S2 S5",
        "[C] Message (S2) and numeric codes such as 20538 (S5); [R] ErrorCode as the code's field, "
        "which no source shows",
    ),
    behaviour(
        "test_network_20538",
        "L A6 S3 S5",
        "[C] TestNetworkID is a field; [L] one equal to the target network is refused with 20538",
    ),
    behaviour(
        "plan_state_enum",
        "C A9 S2",
        "MetaData.State 0..10, 5 = Paused, 7 = Completed; StateString as MigrationPlanState+label",
    ),
    behaviour(
        "vm_state_strings",
        "C A10 S4",
        "DataSeeding -> ReadyToCutover (CUTOVER in Actions) -> CutoverInProgress -> Completed, as a "
        "Move 5.x run logged them",
    ),
    behaviour(
        "vm_numeric_state",
        "R A10",
        "VMStatus[].State by A10's reconstruction, 5 = ReadyToCutover; only marketing (S8, [X]) "
        "claims a number, no working client reads one",
    ),
    behaviour(
        "provider_read_type",
        "R A4",
        "[L] AOS_PC for a Nutanix target; [R] VMWARE_ESXI_VCENTER for a vCenter source, found nowhere",
    ),
    behaviour(
        "plan_workloads_entities",
        "L A14 S5",
        "plans/{uuid}/workloads/list also answers Entities[].MetaData (S5 expects it) beside Status",
    ),
    behaviour(
        "workloads_list_limit",
        "C A5 S2 S3 S5 S6",
        "[C] Limit sizes a page, at most 100 (one source's maximum); [R] the offsets are their own marker",
    ),
    behaviour(
        "workloads_list_after_offset",
        "R A5 S6",
        "AfterOffset skips that many VMs; S6 has the paging keys commented out",
    ),
    behaviour(
        "workloads_list_show_vms_all",
        "C A5 S2 S3 S5 S6",
        "[C] ShowVMs (or ShowVMS) 'all'; [L] eligiblevms/ineligiblevms; NVMe as ineligible is ours",
    ),
    behaviour(
        "workloads_list_default_show_vms",
        "R A5",
        "without ShowVMs only eligible VMs are listed: Move's default is undocumented; the strict one",
    ),
    behaviour(
        "guest_preparation_outcome",
        "R A8",
        "which guests fail (Tools not running, no or wrong account for the guest's OS) and the messages; "
        "InstallationInProgress lasts prepare_seconds; manual-mode VMs are the operator's",
    ),
    behaviour(
        "readiness_needs_preparation",
        "R A8",
        "readiness fails (CheckType GuestPreparation) and start fails a VM in auto mode whose guest is "
        "not prepared: no source shows it, the strict reading of S2/S3 preparing before readiness",
    ),
    behaviour(
        "plan_spec_read_back",
        "R A9",
        "GET /plans/{uuid} also echoes Spec (shapes plan: full); no known client reads it, and "
        "/_sim/move/shapes plan: metadata leaves it out",
    ),
    behaviour(
        "schedule_manual",
        "C A6 S2 S4",
        "[C] ScheduleAtEpochSec -1 = not scheduled, everything by hand; [R] other values never cut over",
    ),
    behaviour(
        "vm_console_link",
        "C A12 S2 S3",
        "[C] VmConsoleLink holds vm/<AHV VM uuid>/proxy; [R] the rest, https://<pc>:9440/vnc/...",
    ),
    behaviour(
        "cutover_shuts_source_down",
        "C A7 S2 S3",
        "[C] cutover shuts the source VM down; [R] as a clean power-off, and a failed cutover powers "
        "it on again",
    ),
)

VCENTER = (
    op("POST /api/session", "C B1 V1 V2", "basic auth -> 201, the token as a bare JSON string"),
    op("GET /api/session", "L B1", "{user, created_time, last_accessed_time}, from memory"),
    op("DELETE /api/session", "L B1", "204, from memory; the token then answers 401"),
    op(
        "GET /api/vcenter/vm",
        "C B2 V1 V2",
        "names, vms, folders, clusters, hosts, datacenters, resource_pools, power_states: repeated, no "
        "filter. prefix; a bare array of Summary",
    ),
    op(
        "GET /api/vcenter/vm/{vm}",
        "C B3 V1 V2",
        "Info without the vm id; identity.instance_uuid and bios_uuid; disks and nics maps; unknown id 404",
    ),
    op(
        "GET /api/vcenter/vm/{vm}/power", "C B4 V1", "[C] {state}; [L] clean_power_off only while powered off"
    ),
    op(
        "POST /api/vcenter/vm/{vm}/power?action=start", "C B4 V1", "204; 400 ALREADY_IN_DESIRED_STATE when on"
    ),
    op(
        "POST /api/vcenter/vm/{vm}/power?action=stop", "C B4 V1", "204; 400 ALREADY_IN_DESIRED_STATE when off"
    ),
    op(
        "POST /api/vcenter/vm/{vm}/power?action=suspend",
        "C B4 V1",
        "204; 400 ALREADY_IN_DESIRED_STATE when suspended, NOT_ALLOWED_IN_CURRENT_STATE when off",
    ),
    op(
        "POST /api/vcenter/vm/{vm}/power?action=reset",
        "C B4 V1",
        "204; 400 NOT_ALLOWED_IN_CURRENT_STATE unless on (RESOURCE_BUSY [L] not modelled)",
    ),
    op(
        "GET /api/vcenter/vm/{vm}/guest/identity",
        "C B5 V1",
        "name, family, full_name.default_message, host_name, ip_address",
    ),
    op("GET /api/vcenter/cluster", "L B2 V1", "names and clusters filters, to resolve names to ids"),
    op(
        "GET /api/vcenter/folder",
        "L B2 V1",
        "names, folders and type filters, to resolve names to ids; the type filter is its own marker",
    ),
    op("GET /api/vcenter/datacenter", "L B2 V1", "names and datacenters filters; one datacenter"),
    op("GET /api/vcenter/network", "L B3 V1 V2", "names and networks filters: a network's name from its id"),
    op("GET /api/cis/tagging/category", "C B7 V1", "an array of category ids"),
    op(
        "GET /api/cis/tagging/category/{category_id}",
        "C B7 V1",
        "{id, name, description, cardinality, associable_types, used_by}",
    ),
    op("GET /api/cis/tagging/tag", "C B7 V1", "an array of tag ids"),
    op("GET /api/cis/tagging/tag/{tag_id}", "C B7 V1", "{id, category_id, name, description, used_by}"),
    op(
        "POST /api/cis/tagging/tag?action=list-tags-for-category",
        "C B7 V1",
        "{category_id} -> an array of tag ids",
    ),
    op(
        "POST /api/cis/tagging/tag-association?action=list-attached-objects-on-tags",
        "C B7 V1",
        "{tag_ids} -> [{tag_id, object_ids}]",
    ),
    op(
        "POST /api/cis/tagging/tag-association?action=list-attached-tags",
        "C B7 V1",
        "{object_id} -> an array of tag ids",
    ),
    op(
        "POST /api/cis/tagging/tag-association?action=list-attached-tags-on-objects",
        "C B7 V1",
        "{object_ids} -> [{object_id, tag_ids}]",
    ),
    op(
        "POST /api/cis/tagging/tag-association/{tag_id}?action=list-attached-objects",
        "C B7 V1 V3",
        "[{type: VirtualMachine, id}]",
    ),
    op("POST /api/cis/tagging/tag-association/{tag_id}?action=attach", "C B7 V3", "{object_id} -> 204"),
    op("POST /api/cis/tagging/tag-association/{tag_id}?action=detach", "C B7 V3", "{object_id} -> 204"),
    behaviour(
        "list_cap_4000",
        "C B2 V1",
        "[C] at most 4000 VMs a list; [L] more fail with 400 UNABLE_TO_ALLOCATE_RESOURCE, not truncated",
    ),
    behaviour(
        "filters_and_or", "C B2 V1", "parameters AND together, the values of one OR; empty matches all"
    ),
    behaviour("names_exact", "R B10", "names= matches exactly and case-sensitively"),
    behaviour(
        "unknown_list_parameter_400",
        "R B9",
        "a parameter the VM list lacks (filter.names, the /rest spelling) answers 400 INVALID_ARGUMENT",
    ),
    behaviour("memory_size_MiB", "C B2 V1", "Summary spells memory_size_MiB"),
    behaviour(
        "folder_type_filter",
        "C B2 V1",
        "folder type DATACENTER/DATASTORE/HOST/NETWORK/VIRTUAL_MACHINE, another value 400 "
        "INVALID_ARGUMENT (Broadcom's List Folder); same-named HOST and DATASTORE folders are ours",
    ),
    behaviour("session_idle_expiry", "R B1", "a session idle 1800 s expires: 401 UNAUTHENTICATED"),
    behaviour(
        "guest_identity_503", "L B5", "503 SERVICE_UNAVAILABLE while VMware Tools is not running, from memory"
    ),
    behaviour(
        "error_body",
        "C B8 V1",
        "[C] {error_type, messages[{id, default_message, args}]} and 400/401/404; [L] 403/503/500",
    ),
    behaviour(
        "instance_uuid_is_move_uuid",
        "L B6 S4",
        "Move's VMUuid and VMReference.UUID are identity.instance_uuid (50...), VmID the MoRef",
    ),
    behaviour(
        "single_cardinality_refusal",
        "R B7",
        "a second tag of a SINGLE-cardinality category on one VM: 400 INVALID_ARGUMENT",
    ),
)


def served_routes(api: APIRouter) -> set[tuple[str, str]]:
    """(method, path template) of each route of `api`, but the catch-all that answers 501."""
    return {
        (method, route.path)
        for route in api.routes
        if isinstance(route, APIRoute) and ":path}" not in route.path
        for method in route.methods
    }


def report(markers: tuple[Marker, ...], api: APIRouter) -> list[dict]:
    served = served_routes(api)
    return [m.wire(served) for m in markers]
