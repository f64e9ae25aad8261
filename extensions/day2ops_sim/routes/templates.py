"""vmm handlers: /api/vmm/{version}/content/templates, its versions and its actions."""

from ..core import envelope
from .common import Call, Listing, entity_reply, handles, list_reply, task_reply
from .vmm import VM_TYPE, with_typed_nics

NS = "vmm"
TEMPLATES = "content/templates"
TEMPLATE_TYPE = "vmm.v4.content.Template"
VERSION_TYPE = "vmm.v4.content.TemplateVersionSpec"

TEMPLATE_LISTING = Listing()
VERSION_LISTING = Listing()


def _version_view(call: Call):
    """A version with its nested models typed, and its vmSpec as this API version shows a VM."""

    def view(version: dict) -> dict:
        out = dict(version)
        if "vmSpec" in out:
            out["vmSpec"] = envelope.stamp(with_typed_nics(dict(out["vmSpec"])), VM_TYPE, call.version)
        if "versionSource" in out:
            source = {k: v for k, v in out["versionSource"].items() if k != "$objectType"}
            out["versionSource"] = envelope.stamp(
                source, version["versionSource"]["$objectType"], call.version
            )
        if "createdBy" in out:
            out["createdBy"] = envelope.stamp(
                dict(out["createdBy"]), "vmm.v4.content.TemplateUser", call.version
            )
        return out

    return view


def _template_view(call: Call):
    version_view = _version_view(call)
    templates = call.state.templates

    def view(template: dict) -> dict:
        out = templates.view(template)
        out["templateVersionSpec"] = envelope.stamp(
            version_view(out["templateVersionSpec"]), VERSION_TYPE, call.version
        )
        for user in ("createdBy", "updatedBy"):
            if user in out:
                out[user] = envelope.stamp(dict(out[user]), "vmm.v4.content.TemplateUser", call.version)
        if out.get("guestUpdateStatus"):
            out["guestUpdateStatus"] = envelope.stamp(
                dict(out["guestUpdateStatus"]), "vmm.v4.content.GuestUpdateStatus", call.version
            )
        return out

    return view


def _versions_path(template_ext_id: str) -> str:
    return f"{TEMPLATES}/{template_ext_id}/versions"


@handles(NS, "list_templates")
def list_templates(call: Call):
    templates = call.state.templates.templates
    return list_reply(call, templates, TEMPLATE_TYPE, TEMPLATE_LISTING, TEMPLATES, shape=_template_view(call))


@handles(NS, "get_template_by_id")
def get_template_by_id(call: Call):
    ext_id = call.params["extId"]
    template = _template_view(call)(call.state.templates.get(ext_id))
    return entity_reply(call, template, TEMPLATE_TYPE, TEMPLATES, call.state.templates.templates.etag(ext_id))


@handles(NS, "create_template")
def create_template(call: Call):
    return task_reply(call, call.state.templates.create(call.json_body()))


@handles(NS, "update_template_by_id")
def update_template_by_id(call: Call):
    templates = call.state.templates
    return task_reply(call, templates.update(call.params["extId"], call.json_body(), call.if_match))


@handles(NS, "delete_template_by_id")
def delete_template_by_id(call: Call):
    return task_reply(call, call.state.templates.delete(call.params["extId"], call.if_match))


@handles(NS, "list_template_versions")
def list_template_versions(call: Call):
    template_ext_id = call.params["templateExtId"]
    versions = call.state.templates.versions_of(template_ext_id)
    return list_reply(
        call,
        versions,
        VERSION_TYPE,
        VERSION_LISTING,
        _versions_path(template_ext_id),
        shape=_version_view(call),
    )


@handles(NS, "get_template_version_by_id")
def get_template_version_by_id(call: Call):
    template_ext_id = call.params["templateExtId"]
    version = call.state.templates.version(template_ext_id, call.params["extId"])
    # No ETag of its own: a version delete takes the template's.
    return entity_reply(
        call, _version_view(call)(version), VERSION_TYPE, _versions_path(template_ext_id), None
    )


@handles(NS, "delete_template_version_by_id")
def delete_template_version_by_id(call: Call):
    templates = call.state.templates
    return task_reply(
        call, templates.delete_version(call.params["templateExtId"], call.params["extId"], call.if_match)
    )


@handles(NS, "publish_template")
def publish_template(call: Call):
    templates = call.state.templates
    return task_reply(call, templates.publish(call.params["extId"], call.json_body(), call.if_match))


@handles(NS, "deploy_template")
def deploy_template(call: Call):
    templates = call.state.templates
    return task_reply(call, templates.deploy(call.params["extId"], call.json_body(), call.if_match))


@handles(NS, "initiate_guest_update")
def initiate_guest_update(call: Call):
    templates = call.state.templates
    body = call.json_body(required=False)
    return task_reply(call, templates.initiate_guest_update(call.params["extId"], body, call.if_match))


@handles(NS, "complete_guest_update")
def complete_guest_update(call: Call):
    templates = call.state.templates
    return task_reply(
        call, templates.complete_guest_update(call.params["extId"], call.json_body(), call.if_match)
    )


@handles(NS, "cancel_guest_update")
def cancel_guest_update(call: Call):
    return task_reply(call, call.state.templates.cancel_guest_update(call.params["extId"], call.if_match))
