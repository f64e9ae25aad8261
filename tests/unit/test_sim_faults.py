"""The simulator's one fault injection point: a fault answers instead of the call, or after a call that
took effect in place of its answer; latency delays both; basic credentials parse as every API reads them."""

import asyncio
import base64

from day2ops_sim.core.faults import Fault, FaultPlan, Latency, inject
from day2ops_sim.routes.rest import basic_credentials


def run_through(plan: FaultPlan, took_effect: bool = True) -> tuple[str, list[str]]:
    ran = []

    async def run():
        ran.append("call")
        return "answer", took_effect

    answer = asyncio.run(
        inject(plan, "GET", "/api/vmm/v4.3/ahv/config/vms", "list_vms", run, lambda f: f.message)
    )
    return answer, ran


def test_a_fault_before_the_handler_answers_without_running_the_call():
    plan = FaultPlan()
    plan.faults.append(Fault(operation="list_vms", message="down", retry_after=2.5))
    assert run_through(plan) == ("down", [])
    assert plan.faults[0].headers == {"Retry-After": "2.5"}
    assert run_through(plan) == ("answer", ["call"])
    assert plan.injected == 1


def test_a_lost_answer_needs_a_call_that_took_effect():
    plan = FaultPlan()
    plan.faults.append(Fault(path="/api/vmm/*", message="lost", after_handler=True, count=2))
    assert run_through(plan) == ("lost", ["call"])
    assert run_through(plan, took_effect=False) == ("answer", ["call"])
    assert Fault().headers == {}


def test_latency_matches_method_and_path():
    plan = FaultPlan()
    plan.latencies.append(Latency(path="/api/vmm/*", method="get", seconds=0.01))
    plan.latencies.append(Latency(operation="create_vm", seconds=5))
    assert plan.latency("GET", "/api/vmm/v4.3/ahv/config/vms", "list_vms") == 0.01
    assert run_through(plan) == ("answer", ["call"])


def test_basic_credentials():
    header = "Basic " + base64.b64encode(b"admin:pa:ss").decode()
    assert basic_credentials(header) == ("admin", "pa:ss")
    assert basic_credentials("basic abc") is None
    assert basic_credentials("Bearer x") is None
