"""Query the demo server with the SDK's Client: typed records, conditions, paging, errors.

Run it against `aios-records serve --demo --time-zone Asia/Shanghai`.
AIOS_URL and AIOS_PASSWORD override the server URL and the admin password.
"""

import os
from datetime import datetime

from aios_records.sdk import ApiError, Client, Q

url = os.environ.get("AIOS_URL", "http://127.0.0.1:8080/zstack")
with Client(url, time_zone="Asia/Shanghai", timeout=30) as client:
    client.login("admin", os.environ.get("AIOS_PASSWORD", "password"))  # logs out at the end

    record = client.get("TrainedModelRecord", "d374c0670c744f0f85c9d33041475eb1")
    print(record.modelUuid, record.createDate.isoformat())

    # Conditions are Q expressions, raw q strings, or field=value keywords.
    recent = client.query("TrainedModelRecord", Q.createDate >= datetime(2025, 11, 1),
                          Q.model.name.like("Qwen2.5-7B%"), sort="-createDate", limit=5)
    print(f"{len(recent)} recent Qwen2.5-7B records, newest {recent[0].createDate.isoformat()}")
    print(client.count("TrainedModelRecord", sourceModelUuid=None), "records without a base model")

    # Every record trained on the example's dataset, 500 per request.
    trained = client.iterate("TrainedModelRecord", datasetUuid=record.datasetUuid, page_size=500)
    print(sum(1 for _ in trained), "records on the example's dataset")

    try:
        client.query("TrainedModelRecord", Q.noSuchField == 1)
    except ApiError as error:
        print(error.code, error.description)
