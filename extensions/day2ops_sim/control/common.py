"""What every control endpoint uses: the simulator's state and the shape of a refusal."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import JSONResponse

from ..state import SimState


async def sim_state(request: Request) -> SimState:
    return request.app.state.sim


Sim = Annotated[SimState, Depends(sim_state)]


def refusal(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)
