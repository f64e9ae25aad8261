"""The web UI: server-rendered page shells (Jinja2) whose scripts read the same JSON API as any
client. Static assets come from the app itself, so the UI works air-gapped."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from day2ops_app.deps import AppSettings, Templates, page_user, session_csrf
from day2ops_app.settings import Settings

router = APIRouter(include_in_schema=False)

PAGES = {
    "": ("catalog.html", "Catalog"),
    "history": ("history.html", "Runs"),
    "approvals": ("approvals.html", "Approvals"),
    "schedules": ("schedules.html", "Schedules"),
    "chargeback": ("chargeback.html", "Chargeback"),
}


def _page(
    request: Request, templates: Templates, settings: Settings, template: str, title: str, **context
) -> HTMLResponse:
    """A page for the logged-in user, or a redirect to the login page that comes back here."""
    try:
        user = page_user(request)
    except HTTPException:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/ui/login?next={quote(target, safe='')}", status_code=303)
    return templates.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "title": title,
            "csrf": session_csrf(request) or "",
            "approver": bool({"approver", "admin"} & set(user.roles)),
            "task_url": settings.prism_task_url.replace("{host}", settings.prism_host).replace(
                "{port}", str(settings.prism_port)
            ),
            **context,
        },
    )


@router.get("/")
def root():
    return RedirectResponse("/ui/", status_code=303)


@router.get("/ui/login", response_class=HTMLResponse)
def login(request: Request, templates: Templates, next: str = "/ui/"):
    # Only paths of this app: never send a user elsewhere after logging in.
    target = next if next.startswith("/ui/") and "//" not in next else "/ui/"
    return templates.TemplateResponse(request, "login.html", {"title": "Log in", "next": target})


@router.get("/ui/items/{item_id}", response_class=HTMLResponse)
def form(item_id: str, request: Request, templates: Templates, settings: AppSettings):
    return _page(request, templates, settings, "form.html", "Run", item_id=item_id)


@router.get("/ui/runs/{execution_id}", response_class=HTMLResponse)
def run(execution_id: str, request: Request, templates: Templates, settings: AppSettings):
    return _page(request, templates, settings, "run.html", "Run", execution_id=execution_id)


@router.get("/ui/", response_class=HTMLResponse)
@router.get("/ui/{page}", response_class=HTMLResponse)
def page(request: Request, templates: Templates, settings: AppSettings, page: str = ""):
    if page not in PAGES:
        raise HTTPException(404, f"no page {page}")
    template, title = PAGES[page]
    return _page(request, templates, settings, template, title, page=page)
