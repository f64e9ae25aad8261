# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

Google Sheets with a service account: the OAuth 2.0 JWT bearer grant (RFC 7523) signed with the
account's RSA key, then spreadsheets.values.append. Every HTTP detail of Google is here.
"""

from __future__ import annotations

import base64
import json
import time
import traceback

from urllib.parse import quote, urlsplit

from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError, Auth, BearerAuth, Transport

try:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError:
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()

SCOPE = "https://www.googleapis.com/auth/spreadsheets"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SHEETS_API = "https://sheets.googleapis.com"


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def assertion(account, now=None):
    """The signed JWT a service account trades for an access token."""
    now = int(now or time.time())
    header = {"alg": "RS256", "typ": "JWT", "kid": account.get("private_key_id")}
    claims = {
        "iss": account["client_email"],
        "scope": SCOPE,
        "aud": account["token_uri"],
        "iat": now,
        "exp": now + 3600,
    }
    signing_input = (
        "%s.%s" % (_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()))
    ).encode()
    key = serialization.load_pem_private_key(account["private_key"].encode(), password=None)
    return "%s.%s" % (
        signing_input.decode(),
        _b64(key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())),
    )


def load_account(path):
    try:
        with open(path) as handle:
            account = json.load(handle)
    except (OSError, ValueError) as err:
        raise ApiError(
            "read the service account file %s" % path, str(err), hint="give the JSON key file Google issued"
        ) from None
    missing = [k for k in ("client_email", "private_key", "token_uri") if not account.get(k)]
    if account.get("type") != "service_account" or missing:
        raise ApiError(
            "read the service account file %s" % path,
            "not a service account key (type %r, missing %s)"
            % (account.get("type"), ", ".join(missing) or "nothing"),
            hint="create a key for a service account in the Google Cloud console and download it as JSON",
        )
    return account


def _fail(response, action, hint):
    try:
        error = response.json().get("error")
        message = error.get("message") if isinstance(error, dict) else (error or response.text)
    except ValueError:
        message = response.text
    raise ApiError(action, (message or response.reason or "no body")[:300], response.status_code, hint=hint)


def append_rows(account, spreadsheet_id, sheet_range, rows, api_url=SHEETS_API, validate_certs=True):
    """Append `rows` after the table at `sheet_range`; Google's `updates` (range, row count)."""
    token_uri = urlsplit(account["token_uri"])
    tokens = Transport(
        "%s://%s" % (token_uri.scheme, token_uri.netloc),
        Auth(),
        ("the token_uri of service_account_file",),
        validate_certs=validate_certs,
    )
    action = "get a Google access token for %s" % account["client_email"]
    grant = {"grant_type": JWT_GRANT, "assertion": assertion(account)}
    response = tokens.request("POST", token_uri.path, action, form=grant)
    if response.status_code >= 300:
        _fail(response, action, "check that the key is current and the service account is enabled")
    sheets = Transport(
        api_url, BearerAuth(response.json()["access_token"]), ("api_url",), validate_certs=validate_certs
    )
    action = "append %d row(s) to spreadsheet %s" % (len(rows), spreadsheet_id)
    response = sheets.request(
        "POST",
        "/v4/spreadsheets/%s/values/%s:append"
        % (quote(spreadsheet_id, safe=""), quote(sheet_range, safe="")),
        action,
        params={"valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS"},
        body={"majorDimension": "ROWS", "values": rows},
    )
    if response.status_code >= 300:
        _fail(
            response,
            action,
            "share the sheet with %s as an editor, and enable the Sheets API" % account["client_email"],
        )
    return response.json().get("updates") or {}
