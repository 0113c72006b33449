"""Print the product page's example record through the zssdk-style Python SDK.

Run it against `aios-records serve --demo --time-zone Asia/Shanghai`.
AIOS_HOST, AIOS_PORT and AIOS_PASSWORD override the server address and the
admin password.
"""

import json
import os

from aios_records.zssdk import LogInByAccountAction, QueryTrainedModelRecordAction, configure

configure(hostname=os.environ.get("AIOS_HOST", "127.0.0.1"),
          port=int(os.environ.get("AIOS_PORT", "8080")), context_path="/zstack")

login = LogInByAccountAction()
login.accountName = "admin"
login.password = os.environ.get("AIOS_PASSWORD", "password")  # sent as its SHA-512 digest
session_uuid = login.call().value.inventory.uuid

# The product page's snippet, as Python:
action = QueryTrainedModelRecordAction()
action.conditions = ["uuid=d374c0670c744f0f85c9d33041475eb1"]
action.sessionId = session_uuid
res = action.call()
if res.error is not None:
    raise SystemExit(f"query failed: {res.error.code} {res.error.details}")
print(json.dumps({"inventories": res.value.inventories}, indent=2, ensure_ascii=False))
