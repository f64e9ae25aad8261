#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: sheets_append
short_description: Append rows to a Google Sheet with a service account
version_added: 0.1.0
description:
  - Appends O(rows) after the table found at O(range) of a Google Sheet, through the Sheets REST API
    (C(spreadsheets.values.append), C(valueInputOption=RAW), C(insertDataOption=INSERT_ROWS)).
  - Authenticates as a service account. A JWT signed with the account's key is traded at its
    C(token_uri) for an access token (the OAuth 2.0 JWT bearer grant), so no user consent is involved.
  - Set up once. In the Google Cloud console enable the Google Sheets API, create a service account
    and a JSON key for it, and share the spreadsheet with the account's C(client_email) as an editor.
  - Every call appends; running it twice appends the rows twice.
author: day2ops team (@day2ops)
requirements:
  - cryptography (to sign the JWT)
options:
  spreadsheet_id:
    description: The spreadsheet's id, from its URL (C(https://docs.google.com/spreadsheets/d/<id>/edit)).
    type: str
    required: true
  range:
    description: Where the table is, in A1 notation, for example C(Trend!A1).
    type: str
    default: Sheet1!A1
  rows:
    description: The rows to append, each a list of cell values.
    type: list
    elements: list
    required: true
  service_account_file:
    description: The service account's JSON key file (a secret; keep it out of the repository).
    type: path
    required: true
  api_url:
    description: The Sheets API root; only a test or a proxy changes it.
    type: str
    default: https://sheets.googleapis.com
  validate_certs:
    description: Verify the TLS certificates of the token and Sheets endpoints.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Reports the rows it would append and sends nothing.
  diff_mode:
    support: none
    description: Appends only.
  platform:
    platforms: all
    description: Runs where the key file is, usually the controller.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: Append this week's chargeback rows
  day2ops.ahv.sheets_append:
    spreadsheet_id: 1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789
    range: Trend!A1
    rows:
      - ["2026-11-23", Department, Finance, 42, 40, 120, 480.0, 5120.0, 4321.5, EUR]
    service_account_file: /etc/day2ops/sheets-writer.json
  check_mode: true
"""

RETURN = r"""
updated_range:
  description: Where the rows went, as Google reports it; null in check mode.
  returned: always
  type: str
updated_rows:
  description: How many rows were appended (would be, in check mode).
  returned: always
  type: int
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.day2ops.ahv.plugins.module_utils._google import (
    CRYPTOGRAPHY_IMPORT_ERROR,
    SHEETS_API,
    append_rows,
    load_account,
)
from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            spreadsheet_id=dict(type="str", required=True),
            range=dict(type="str", default="Sheet1!A1"),
            rows=dict(type="list", elements="list", required=True),
            service_account_file=dict(type="path", required=True),
            api_url=dict(type="str", default=SHEETS_API),
            validate_certs=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if module.check_mode:
        module.exit_json(changed=bool(params["rows"]), updated_range=None, updated_rows=len(params["rows"]))
    if CRYPTOGRAPHY_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    try:
        account = load_account(params["service_account_file"])
        updates = append_rows(
            account,
            params["spreadsheet_id"],
            params["range"],
            params["rows"],
            params["api_url"],
            params["validate_certs"],
        )
    except ApiError as err:
        module.fail_json(msg=str(err), **err.result())
    module.exit_json(
        changed=True, updated_range=updates.get("updatedRange"), updated_rows=updates.get("updatedRows", 0)
    )


if __name__ == "__main__":
    main()
