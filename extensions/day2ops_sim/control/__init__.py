"""The control plane under /_sim/: reset, state, scale, latency, faults, denied permissions, task timing,
clock, versions, the guests inside the VMs (patch, reboot, application health), and the Move
appliance's timing and injected trouble (a failing cutover, a VM stuck seeding, expired tokens).
Latency and fault rules apply to the vCenter and Move listeners too, matched on their paths
(/api/vcenter/*, /move/v2/*).

No real Prism Central serves /_sim/, so nothing a client does by accident lands here. Every
endpoint is a thin wrapper over a SimState method, so in-process tests share the same verbs.
"""

from fastapi import APIRouter

from . import coverage, estate, guests, migration, tasks, trouble

router = APIRouter(prefix="/_sim", tags=["simulator control"])
for _concern in (estate, trouble, tasks, guests, migration, coverage):
    router.include_router(_concern.router)
