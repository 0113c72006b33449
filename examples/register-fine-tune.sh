#!/usr/bin/env bash
# Register the result of a fine-tuning run, then find it with a cross-table query.
# Needs curl and python3. AIOS_URL and SESSION come from the environment.
set -euo pipefail
AIOS_URL=${AIOS_URL:-http://localhost:8080/zstack}
: "${SESSION:?log in first and export SESSION}"

api() {  # api METHOD PATH [JSON-BODY]
  curl -sS -X "$1" -H "Authorization: OAuth $SESSION" \
    -H 'Content-Type: application/json' "$AIOS_URL$2" ${3:+-d "$3"}
}
first_uuid() {  # the uuid of the first inventory, or of the single inventory
  python3 -c 'import json, sys
body = json.load(sys.stdin)
if "error" in body:
    sys.exit("request failed: %s" % body["error"])
print((body.get("inventory") or body["inventories"][0])["uuid"])'
}

BASE=$(api GET '/v1/ai/models?q=name=Qwen2.5-7B-Instruct' | first_uuid)
DATASET=$(api GET '/v1/ai/datasets?q=name=alpaca-zh' | first_uuid)
CENTER=$(api GET '/v1/ai/model-centers?q=name=mc-shanghai-01' | first_uuid)

GROUP=$(api POST /v1/ai/model-services/instances/groups \
  '{"params":{"name":"ft-qwen7b-alpaca-nightly","status":"Stopped","modelServiceType":"FineTune","type":"Container"}}' \
  | first_uuid)
MODEL=$(api POST /v1/ai/models \
  "{\"param\":{\"name\":\"Qwen2.5-7B-Instruct-ft-alpaca-zh-nightly\",\"modelCenterUuid\":\"$CENTER\",\"installPath\":\"/aios/models/trained/qwen7b-alpaca-nightly\"}}" \
  | first_uuid)
RECORD=$(api POST /v1/ai/trained-model/records \
  "{\"params\":{\"modelUuid\":\"$MODEL\",\"sourceModelUuid\":\"$BASE\",\"modelServiceInstanceGroupUuid\":\"$GROUP\",\"datasetUuid\":\"$DATASET\"}}" \
  | first_uuid)
echo "registered record $RECORD for model $MODEL"

# Which trained models came from Qwen2.5-7B-Instruct on alpaca-zh, in group ft-qwen7b-alpaca-nightly?
api GET '/v1/ai/trained-model/records?q=sourceModel.name=Qwen2.5-7B-Instruct&q=dataset.name=alpaca-zh&q=modelServiceInstanceGroup.name=ft-qwen7b-alpaca-nightly'
echo
