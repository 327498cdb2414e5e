#!/usr/bin/env bash
# One-shot job run by the `temporal-admin-tools` service of docker-compose.yml.
#
# Registers the custom search attributes the governance engine writes on every case workflow
# (see common/search-attributes.ts). Safe to run on every `docker compose up`: an attribute that
# already exists with the right type is left alone, one that exists with another type is an error
# (a workflow would fail to upsert it), and a failed create is re-checked before it counts as a
# failure, so a concurrent registration or an "already exists" answer is fine.
#
# Exits 0 only when every attribute is listed on the namespace; the api and worker services wait
# for that (depends_on: service_completed_successfully).
set -euo pipefail

ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
# Space-separated NAME=Type pairs.
ATTRIBUTES="${CASE_SEARCH_ATTRIBUTES:-CaseStatus=Keyword CaseDefinitionKey=Keyword CaseUnitId=Keyword}"
TIMEOUT_SECONDS="${WAIT_TIMEOUT_SECONDS:-300}"
# After a new registration, give every Temporal service time to reload the namespace (it caches
# the alias map for ~10s) before the engine starts using the attribute.
SETTLE_SECONDS="${SETTLE_SECONDS:-15}"

log() { printf '[search-attributes] %s\n' "$*"; }

deadline=$((SECONDS + TIMEOUT_SECONDS))
check_deadline() {
  if ((SECONDS >= deadline)); then
    log "gave up after ${TIMEOUT_SECONDS}s: $1"
    exit 1
  fi
}

tctl_() { temporal "$@" --address "$ADDRESS"; }

frontend_serving() { tctl_ operator cluster health 2>/dev/null | grep -q SERVING; }
namespace_ready() { tctl_ operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; }
attributes_listable() { tctl_ operator search-attribute list --namespace "$NAMESPACE" >/dev/null 2>&1; }

wait_until() {
  local what=$1
  shift
  log "waiting for ${what}"
  until "$@"; do
    check_deadline "${what}"
    sleep 2
  done
  log "${what}: ok"
}

# Prints present, missing, mismatch:<type> or unknown (the list call failed).
attribute_state() {
  local name=$1 type=$2 listing
  if ! listing=$(tctl_ operator search-attribute list --namespace "$NAMESPACE" 2>/dev/null); then
    echo unknown
    return
  fi
  awk -v name="$name" -v type="$type" '
    $1 == name {
      found = 1
      t = tolower($2)
      sub(/^indexed_value_type_/, "", t)
      if (t == tolower(type)) { print "present" } else { print "mismatch:" $2 }
      exit
    }
    END { if (!found) print "missing" }
  ' <<<"$listing"
}

wait_until "Temporal frontend at ${ADDRESS}" frontend_serving
wait_until "namespace ${NAMESPACE}" namespace_ready
wait_until "search attribute API on ${NAMESPACE}" attributes_listable

created=0
for spec in $ATTRIBUTES; do
  name=${spec%%=*}
  type=${spec#*=}
  while :; do
    state=$(attribute_state "$name" "$type")
    case $state in
      present)
        log "${name} (${type}) is registered"
        break
        ;;
      mismatch:*)
        log "${name} already exists on ${NAMESPACE} with type ${state#mismatch:}, expected ${type};" \
          "remove it (temporal operator search-attribute remove) or fix the engine"
        exit 1
        ;;
      missing)
        log "creating ${name} (${type})"
        created=1
        if ! output=$(tctl_ operator search-attribute create --namespace "$NAMESPACE" \
          --name "$name" --type "$type" 2>&1); then
          # "already exists" (a concurrent run) or a transient error: the next check decides.
          log "create ${name} answered: ${output}"
        fi
        ;;
      *) ;; # list failed for a moment; try again
    esac
    check_deadline "registering ${name}"
    sleep 2
  done
done

if ((created)); then
  log "new attributes registered; waiting ${SETTLE_SECONDS}s for the namespace cache to refresh"
  sleep "$SETTLE_SECONDS"
fi
log "all search attributes present on ${NAMESPACE}"
