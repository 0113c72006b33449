"""The QueryTrainedModelRecord product page: both curl requests and its example reply.

The demo world contains the page's example record, and the demo server runs in
Asia/Shanghai, so the reply must match the page byte for byte.
"""

from __future__ import annotations

import re

RECORDS = "/v1/ai/trained-model/records"
INVENTORY_CLASS = "org.zstack.ai.entity.TrainedModelRecordInventory"
FIELD_ORDER = ["uuid", "modelUuid", "sourceModelUuid", "modelServiceInstanceGroupUuid",
               "datasetUuid", "createDate", "lastOpDate"]
REPLY_DATE = re.compile(
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [1-9]\d?, \d{4} "
    r"(1[0-2]|[1-9]):[0-5]\d:[0-5]\d (AM|PM)"
)

# The product page's curl requests send this header on a GET without a body.
PAGE_HEADERS = {"Content-Type": "application/json;charset=UTF-8"}

# The "返回示例" (example reply) object of the product page, keys in its order.
PAGE_EXAMPLE = {
    "uuid": "d374c0670c744f0f85c9d33041475eb1",
    "modelUuid": "f9878203ed4048fe99a8909ca90cc105",
    "modelServiceInstanceGroupUuid": "4ad1e97134d44e18a72a84b6b1aabd0c",
    "datasetUuid": "b9d2327ad5ad477bbbcdc6d5534c1e96",
    "createDate": "Nov 19, 2025 6:20:07 PM",
    "lastOpDate": "Nov 19, 2025 6:20:07 PM",
}
PAGE_BODY = (
    b'{"schema":{"inventories[0]":"org.zstack.ai.entity.TrainedModelRecordInventory"},'
    b'"inventories":[{"uuid":"d374c0670c744f0f85c9d33041475eb1",'
    b'"modelUuid":"f9878203ed4048fe99a8909ca90cc105",'
    b'"modelServiceInstanceGroupUuid":"4ad1e97134d44e18a72a84b6b1aabd0c",'
    b'"datasetUuid":"b9d2327ad5ad477bbbcdc6d5534c1e96",'
    b'"createDate":"Nov 19, 2025 6:20:07 PM","lastOpDate":"Nov 19, 2025 6:20:07 PM"}]}'
)
# The uuid in the page's second curl request, which is not in the demo world.
PAGE_CURL_UUID = "30df81c2c02c36fd84970aa943680a0c"


def test_page_list_request(demo_server):
    reply = demo_server.get(RECORDS, headers=PAGE_HEADERS)
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json;charset=utf-8"

    body = reply.json()
    assert list(body) == ["schema", "inventories"]
    inventories = body["inventories"]
    # No limit means the default page size of 1000, and the demo world has 2000 records.
    assert len(inventories) == 1000
    assert list(body["schema"]) == [f"inventories[{i}]" for i in range(999, -1, -1)]
    assert set(body["schema"].values()) == {INVENTORY_CLASS}

    uuids = [inventory["uuid"] for inventory in inventories]
    assert uuids == sorted(uuids)
    assert len(set(uuids)) == 1000
    for inventory in inventories:
        keys = list(inventory)
        assert keys == [name for name in FIELD_ORDER if name in keys]
        assert REPLY_DATE.fullmatch(inventory["createDate"])
        assert REPLY_DATE.fullmatch(inventory["lastOpDate"])
        assert None not in inventory.values()


def test_page_list_contains_example(demo_server):
    second_page = demo_server.get(f"{RECORDS}?start=1000", headers=PAGE_HEADERS).json()
    first_page = demo_server.get(RECORDS, headers=PAGE_HEADERS).json()
    found = [inventory for inventory in first_page["inventories"] + second_page["inventories"]
             if inventory["uuid"] == PAGE_EXAMPLE["uuid"]]
    assert found == [PAGE_EXAMPLE]
    assert list(found[0]) == list(PAGE_EXAMPLE)


def test_page_get_request(demo_server):
    reply = demo_server.get(f"/v1/ai/trained-model/record/{PAGE_CURL_UUID}",
                            headers=PAGE_HEADERS)
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json;charset=utf-8"
    assert reply.body == b'{"schema":{},"inventories":[]}'


def test_example_inventory(demo_server):
    reply = demo_server.get(f"/v1/ai/trained-model/record/{PAGE_EXAMPLE['uuid']}",
                            headers=PAGE_HEADERS)
    assert reply.status == 200
    body = reply.json()
    assert body["inventories"] == [PAGE_EXAMPLE]
    assert list(body["inventories"][0]) == list(PAGE_EXAMPLE)
    assert "sourceModelUuid" not in body["inventories"][0]


def test_example_body_bytes(demo_server):
    reply = demo_server.get(f"/v1/ai/trained-model/record/{PAGE_EXAMPLE['uuid']}",
                            headers=PAGE_HEADERS)
    assert reply.body == PAGE_BODY


def test_example_other_paths(demo_server):
    # The Go SDK uses the plural path; the Java and Python SDKs send q=uuid=... to the list.
    for path in (f"{RECORDS}/{PAGE_EXAMPLE['uuid']}",
                 f"{RECORDS}?q=uuid={PAGE_EXAMPLE['uuid']}",
                 f"{RECORDS}?q=uuid%3D{PAGE_EXAMPLE['uuid']}&sessionId={demo_server.session}"):
        reply = demo_server.get(path)
        assert reply.status == 200, path
        assert reply.body == PAGE_BODY, path

