"""First contact: the demo server serves the product page's two requests."""

from aios_records.demo import EXAMPLE_RECORD_UUID


def test_list_records_returns_demo_world(demo_server):
    reply = demo_server.get("/v1/ai/trained-model/records?replyWithCount=true&limit=5")
    assert reply.status == 200
    body = reply.json()
    assert body["total"] == 2000
    assert len(body["inventories"]) == 5


def test_get_example_record_by_singular_path(demo_server):
    reply = demo_server.get(f"/v1/ai/trained-model/record/{EXAMPLE_RECORD_UUID}")
    assert reply.status == 200
    assert reply.json()["inventories"][0]["uuid"] == EXAMPLE_RECORD_UUID
