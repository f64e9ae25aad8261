"""playbooks/chargeback.yml end to end: reports, trend, webhooks, a Google Sheets stand-in, CMDB drift."""

import base64
import csv
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from playbook import run_playbook

TOKEN = "ya29.day2ops-test-token"


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Google:
    """The OAuth token endpoint and spreadsheets.values.append, checking what a real one checks."""

    def __init__(self, tmp_path):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = key.public_key()
        self.appended, self.errors = [], []
        google = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                url = urlsplit(self.path)
                if url.path == "/token":
                    form = parse_qs(body.decode())
                    head, claims, signature = form["assertion"][0].split(".")
                    try:
                        public.verify(
                            unb64(signature), f"{head}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256()
                        )
                    except Exception as err:
                        google.errors.append(f"bad signature: {err!r}")
                        return self.answer(400, {"error": "invalid_grant"})
                    google.claims = json.loads(unb64(claims))
                    google.grant = form["grant_type"][0]
                    return self.answer(
                        200, {"access_token": TOKEN, "expires_in": 3600, "token_type": "Bearer"}
                    )
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    google.errors.append("no bearer token")
                    return self.answer(401, {"error": {"message": "unauthenticated"}})
                google.appended.append(
                    {"path": url.path, "query": parse_qs(url.query), "body": json.loads(body)}
                )
                rows = len(json.loads(body)["values"])
                return self.answer(
                    200, {"updates": {"updatedRange": f"Trend!A2:J{rows + 1}", "updatedRows": rows}}
                )

            def answer(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        self.key_file = tmp_path / "sheets-writer.json"
        self.key_file.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "client_email": "writer@day2ops-test.iam.gserviceaccount.com",
                    "private_key_id": "k1",
                    "private_key": pem.decode(),
                    "token_uri": f"{self.url}/token",
                }
            )
        )


@pytest.fixture
def google(tmp_path):
    server = Google(tmp_path)
    yield server
    server.server.shutdown()


def chargeback(sim, tmp_path, date, env=None, **extra):
    variables = {
        "chargeback_rate_card": {"currency": "EUR", "vcpu": 18.5, "memory_gib": 4.2, "storage_gib": 0.08},
        "chargeback_report_dir": str(tmp_path / "reports"),
        "chargeback_run_date": date,
        **extra,
    }
    return run_playbook(sim, tmp_path / date, "chargeback.yml", variables, env)


def test_weekly_runs_build_the_reports_the_trend_and_the_alerts(sim, tmp_path, webhook, google):
    cmdb = {"fields": {"Department": "department", "Environment": "environment"}}
    sheets = {
        "spreadsheet_id": "sheet-123",
        "range": "Trend!A1",
        "service_account_file": str(google.key_file),
        "api_url": google.url,
    }
    run = chargeback(
        sim,
        tmp_path,
        "2026-11-16",
        {"DAY2OPS_WEBHOOK_URL": webhook.url},
        chargeback_cmdb=cmdb,
        chargeback_sheets=sheets,
    )
    assert run.rc == 0, run.output
    reports = tmp_path / "reports"
    report = json.loads((reports / "chargeback-2026-11-16-Department.json").read_text())
    vms, names = sim.estate()
    untagged = {
        vm["name"] for vm in vms if not any(names[c["extId"]][0] == "Department" for c in vm["categories"])
    }
    assert {u["name"] for u in report["untagged"]} == untagged and len(report["groups"]) == 7

    # The trend grows by one run's rows per run.
    trend = reports / "trend.csv"
    assert len(list(csv.DictReader(io.StringIO(trend.read_text())))) == 7
    run = chargeback(sim, tmp_path, "2026-11-23")
    assert run.rc == 0, run.output
    rows = list(csv.DictReader(io.StringIO(trend.read_text())))
    assert len(rows) == 14 and {r["date"] for r in rows} == {"2026-11-16", "2026-11-23"}

    # The HTML report: every department with its cost, the chart, the untagged VMs, the drift.
    html = (reports / "chargeback-2026-11-16-Department.html").read_text()
    for group in report["groups"]:
        assert f"<td>{group['group']}</td>" in html and f"<td>{group['cost']['total']:.2f}</td>" in html
    assert html.count("<polyline") == 7 and all(name in html for name in untagged)
    later = (reports / "chargeback-2026-11-23-Department.html").read_text()
    assert later.count("<circle") == 14  # two points per department once two runs exist
    csv_rows = list(
        csv.DictReader(io.StringIO((reports / "chargeback-2026-11-16-Department.csv").read_text()))
    )
    assert [r["group"] for r in csv_rows][:-1] == [g["group"] for g in report["groups"]]

    # The summary and, apart, the alert that names every untagged VM.
    summary, alert = webhook.received
    assert "Chargeback 2026-11-16 by Department" in summary["text"]
    assert all(name in alert["text"] for name in untagged)
    assert {u["name"] for u in alert["day2ops"]["untagged"]} == untagged
    assert "secret-token" not in run.output

    # Google Sheets: a signed service-account JWT for the spreadsheets scope, then one append of 7 rows.
    assert google.errors == [] and google.grant == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert google.claims["scope"] == "https://www.googleapis.com/auth/spreadsheets"
    assert (
        google.claims["aud"] == f"{google.url}/token" and google.claims["exp"] - google.claims["iat"] == 3600
    )
    (append,) = google.appended
    assert append["path"] == "/v4/spreadsheets/sheet-123/values/Trend%21A1:append"
    assert append["query"] == {"valueInputOption": ["RAW"], "insertDataOption": ["INSERT_ROWS"]}
    assert len(append["body"]["values"]) == 7 and append["body"]["values"][0][:3] == [
        "2026-11-16",
        "Department",
        report["groups"][0]["group"],
    ]

    # CMDB drift, against the ServiceNow records read straight from the Table API.
    records = sim.api("GET", "/api/now/table/cmdb_ci_vm_instance").json()["result"]
    by_id = {r["object_id"]: r for r in records}
    differs, missing = set(), set()
    for vm in vms:
        cats = {names[c["extId"]][0]: names[c["extId"]][1] for c in vm["categories"]}
        record = by_id.get(vm["extId"])
        if record is None:
            missing.add(vm["name"])
        elif (record["department"] or None) != cats.get("Department"):
            differs.add(vm["name"])
    drift = report["cmdb_drift"]
    assert {d["vm_name"] for d in drift if d["kind"] == "missing in CMDB"} == missing and missing
    assert {d["vm_name"] for d in drift if d["field"] == "Department"} == differs and differs
    assert {d["vm_name"] for d in drift if d["kind"] == "not in Prism"} == {
        "decommissioned-app-01",
        "decommissioned-db-02",
    }
    assert "decommissioned-app-01" in html
