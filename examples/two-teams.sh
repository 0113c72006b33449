#!/usr/bin/env bash
# Two teams share one aios-records: each sees only its own records, and one
# shares a model with the other. Needs curl and python3; runs against the demo.
set -euo pipefail
AIOS_URL=${AIOS_URL:-http://localhost:8080/zstack}
ADMIN_PASSWORD=${ADMIN_PASSWORD:-password}

sha512() { printf '%s' "$1" | sha512sum | cut -d' ' -f1; }
field() {  # field NAME: print NAME of the reply's inventory, first inventory, or total
  python3 -c 'import json, sys
body = json.load(sys.stdin)
if "error" in body:
    sys.exit("request failed: %s" % body["error"])
if sys.argv[1] == "total":
    print(body["total"])
else:
    print((body.get("inventory") or body["inventories"][0])[sys.argv[1]])' "$1"
}
login() {  # login NAME PASSWORD: print a session uuid
  curl -sS -X PUT "$AIOS_URL/v1/accounts/login" \
    -d "{\"logInByAccount\":{\"accountName\":\"$1\",\"password\":\"$(sha512 "$2")\"}}" | field uuid
}
api() {  # api SESSION METHOD PATH [JSON-BODY]
  curl -sS -X "$2" -H "Authorization: OAuth $1" "$AIOS_URL$3" ${4:+-d "$4"}
}

# The admin creates one account per team and shares the model center and
# the base model with everyone, so both teams can register models.
ADMIN=$(login admin "$ADMIN_PASSWORD")
TEAM_A=$(api "$ADMIN" POST /v1/accounts \
  "{\"params\":{\"name\":\"team-a\",\"password\":\"$(sha512 a-secret)\"}}" | field uuid)
TEAM_B=$(api "$ADMIN" POST /v1/accounts \
  "{\"params\":{\"name\":\"team-b\",\"password\":\"$(sha512 b-secret)\"}}" | field uuid)
CENTER=$(api "$ADMIN" GET '/v1/ai/model-centers?q=name=mc-shanghai-01' | field uuid)
BASE=$(api "$ADMIN" GET '/v1/ai/models?q=name=Qwen2.5-7B-Instruct' | field uuid)
api "$ADMIN" PUT /v1/accounts/resources/actions \
  "{\"shareResource\":{\"resourceUuids\":[\"$CENTER\",\"$BASE\"],\"toPublic\":true}}" >/dev/null

# Each team registers one fine-tuned model and its record.
for team in a b; do
  SESSION=$(login "team-$team" "$team-secret")
  GROUP=$(api "$SESSION" POST /v1/ai/model-services/instances/groups \
    "{\"params\":{\"name\":\"ft-team-$team\",\"status\":\"Stopped\",\"modelServiceType\":\"FineTune\",\"type\":\"Container\"}}" \
    | field uuid)
  MODEL=$(api "$SESSION" POST /v1/ai/models \
    "{\"param\":{\"name\":\"qwen7b-team-$team\",\"modelCenterUuid\":\"$CENTER\"}}" | field uuid)
  api "$SESSION" POST /v1/ai/trained-model/records \
    "{\"params\":{\"modelUuid\":\"$MODEL\",\"sourceModelUuid\":\"$BASE\",\"modelServiceInstanceGroupUuid\":\"$GROUP\"}}" \
    >/dev/null
  eval "SESSION_$team=$SESSION MODEL_$team=$MODEL"
done

# Each team sees only its own record; the admin sees all of them.
echo "team-a sees $(api "$SESSION_a" GET '/v1/ai/trained-model/records?count=true' | field total) record(s)"
echo "team-b sees $(api "$SESSION_b" GET '/v1/ai/trained-model/records?count=true' | field total) record(s)"
echo "team-b sees $(api "$SESSION_b" GET '/v1/ai/models?q=name=qwen7b-team-a&count=true' | field total) model(s) named qwen7b-team-a"

# Team A shares its model with team B, who then finds it by name.
api "$SESSION_a" PUT /v1/accounts/resources/actions \
  "{\"shareResource\":{\"resourceUuids\":[\"$MODEL_a\"],\"accountUuids\":[\"$TEAM_B\"]}}" >/dev/null
echo "after sharing, team-b sees $(api "$SESSION_b" GET '/v1/ai/models?q=name=qwen7b-team-a&count=true' | field total) model(s) named qwen7b-team-a"
echo "team-a's record stays private: team-b sees $(api "$SESSION_b" GET '/v1/ai/trained-model/records?q=model.name=qwen7b-team-a&count=true' | field total) record(s) of it"
echo "(team-a is account $TEAM_A)"
