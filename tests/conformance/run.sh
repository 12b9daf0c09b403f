#!/usr/bin/env bash
# PeerTube API conformance run: checks the PeerTube /api/v1 operations Vireo implements (the rows of
# the README's endpoint table) with schemathesis against PeerTube's own OpenAPI description, corrected
# by fix_spec.py (the spec's errors: those listed in its SOURCE.md and those found since). All of
# schemathesis' default checks, positive and negative data, pinned seed, no example database, one
# worker, no cache; settings that reflect the test instance rather than the spec are in
# schemathesis.toml.
#
#   VIREO_URL=http://127.0.0.1:9000 VIREO_TOKEN=<root access token> ST=<path of st> \
#     tests/conformance/run.sh OUT_DIR [extra `st run` options]
#
# Run it against a throwaway instance: the generated requests create, change and delete users,
# channels, videos and the instance configuration, and the last authenticated part changes users'
# passwords (PUT /users/{id}) and revokes VIREO_TOKEN (POST /users/revoke-token). Vireo should have
# some data (uploaded videos, a second user) so the video and user operations answer more than 404;
# schemathesis.toml assumes the test instance has transcoding off and videos of about 10 s.
#
# Three schemathesis runs, each printed with its summary and kept under OUT_DIR:
#   auth     authenticated (Authorization: Bearer VIREO_TOKEN), every operation but the two below;
#   auth-end authenticated, PUT /users/{id} and POST /users/revoke-token, which end the token's
#            session (a new password for the root user revokes its sessions, like the revocation);
#            run last so that they do not turn the rest of the authenticated run into 401s;
#   anon     anonymous, every operation, against the spec's anonymous copy (fix_spec.py --anonymous:
#            without the parameters PeerTube refuses from anonymous clients).
# Exits non-zero when any run found a failure or an error.
#
# Optional: PEERTUBE_OPENAPI (the spec; default the shared fixture beside the repository), PYTHON
# (a Python 3 with PyYAML; default the python next to ST), MAX_EXAMPLES (default 75: the whole run
# takes about 2 minutes on two cores that other tests keep busy, against 2.5 to 3 minutes at 100, most
# of it in the upload and video update operations, whose generated files Vireo probes), SEED (default
# 20251207), REQUEST_TIMEOUT (seconds, default 10).
set -euo pipefail

if [ $# -lt 1 ] || [ -z "${VIREO_URL:-}" ] || [ -z "${VIREO_TOKEN:-}" ]; then
  echo "usage: VIREO_URL=... VIREO_TOKEN=... ST=... $0 OUT_DIR [st run options]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
out=$1
shift
extra=("$@")
st=${ST:-$here/venv/bin/st}
python=${PYTHON:-$(dirname "$st")/python}
[ -x "$python" ] || python=python3
spec=${PEERTUBE_OPENAPI:-$here/../../../shared/fixtures/peertube-openapi/openapi.yaml}
max_examples=${MAX_EXAMPLES:-75}
seed=${SEED:-20251207}
request_timeout=${REQUEST_TIMEOUT:-10}

[ -x "$st" ] || { echo "$0: no schemathesis at $st (set ST)" >&2; exit 2; }
[ -f "$spec" ] || { echo "$0: no PeerTube spec at $spec (set PEERTUBE_OPENAPI)" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

SECONDS=0
"$python" "$here/fix_spec.py" "$spec" "$out/corrected.yaml"
"$python" "$here/fix_spec.py" --anonymous "$spec" "$out/corrected-anonymous.yaml"

# The operations Vireo implements, by "METHOD path", from the README's endpoint table (the one list of
# them): its rows `| METHOD | `/path` | operationId |` between the endpoints:start/end markers. Only
# the /api/v1 rows are tested here. The others stay out: /static/* serve media files by names that
# exist only once a video is stored (the spec's free `filename` could only ever get 404s, and the answer
# is the file's bytes, with no schema to check), and /feeds/videos.{format} answers XML documents
# (VideosForXML; Vireo serves the `xml` format), which schemathesis' response checks do not read; both
# are covered by the integration tests (tests/integration/{files,web}.rs).
readme=$here/../../README.md
[ -f "$readme" ] || { echo "$0: no README at $readme" >&2; exit 2; }
mapfile -t operations < <(
  sed -n '/<!-- endpoints:start -->/,/<!-- endpoints:end -->/p' "$readme" |
    sed -nE 's#^\| *(GET|POST|PUT|DELETE|PATCH) *\| *`(/api/v1/[^`]*)` *\|.*#\1 \2#p'
)
[ "${#operations[@]}" -gt 0 ] || { echo "$0: no /api/v1 rows in the endpoint table of $readme" >&2; exit 2; }
session_ending=("PUT /api/v1/users/{id}" "POST /api/v1/users/revoke-token")

select_all=()
select_auth=()
select_auth_end=()
for op in "${operations[@]}"; do
  select_all+=(--include-name "$op")
  case " ${session_ending[*]} " in
    *" $op "*) select_auth_end+=(--include-name "$op") ;;
    *) select_auth+=(--include-name "$op") ;;
  esac
done

# schemathesis fetches `externalValue` examples of request parameters and bodies over the network.
# The spec's 17 are all response examples, which schemathesis 4.32 never fetches; should one reach a
# request, a dead proxy makes the fetch fail at once instead of leaving the machine, while the
# requests to Vireo bypass it.
vireo_host=$(printf '%s' "$VIREO_URL" | sed -E 's#^[a-zA-Z]+://([^/@]*@)?(\[[^]]*\]|[^/:]*).*#\2#')
export HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9
export NO_PROXY="$vireo_host,127.0.0.1,localhost" http_proxy=$HTTP_PROXY https_proxy=$HTTPS_PROXY no_proxy="$vireo_host,127.0.0.1,localhost"

# Serializers schemathesis lacks for the spec's multipart encodings (st_hooks.py says which and why).
export SCHEMATHESIS_HOOKS=$here/st_hooks.py

# The stateful phase is off: it stops at the spec's link getOAuthClient -> getOAuthToken, whose
# parameters client_id/client_secret are body fields, not parameters of getOAuthToken.
# --continue-on-failure: every distinct failure of an operation, not only its first.
common=(
  --url "$VIREO_URL"
  --phases examples,coverage,fuzzing
  --mode all
  --continue-on-failure
  --seed "$seed"
  --generation-database none
  --workers 1
  --max-examples "$max_examples"
  --request-timeout "$request_timeout"
  --no-color
  ${extra[@]+"${extra[@]}"}
)

failed=0
summaries=()
# run_st NAME SPEC WANTED [st options]: one schemathesis run; WANTED is the number of operations it
# must select, so that a README row the spec does not have (a typo, a path PeerTube does not
# describe) fails the run instead of silently testing less.
run_st() {
  local name=$1 spec_copy=$2 wanted=$3
  shift 3
  local status=0 selected
  echo "=== conformance run: $name"
  if [ "$wanted" -eq 0 ]; then
    # Without any --include-name, st would run every operation of the spec.
    echo "(no operation of the README for this run)"
    summaries+=("$name: skipped, no operation")
    return
  fi
  "$st" --config-file "$here/schemathesis.toml" run "$spec_copy" "${common[@]}" \
    --report junit --report-junit-path "$out/$name.junit.xml" "$@" 2>&1 | tee "$out/$name.log" || status=$?
  selected=$(sed -nE 's#^ *Selected: ([0-9]+)/[0-9]+$#\1#p' "$out/$name.log" | head -n 1)
  if [ "${selected:-0}" -ne "$wanted" ]; then
    echo "$0: run $name selected ${selected:-no} operations of the $wanted asked for: a README row is not in the spec" >&2
    [ "$status" -ne 0 ] || status=2
  fi
  summaries+=("$name: exit $status, ${selected:-0}/$wanted operations, $(grep -E '^=+ .* in [0-9.]+s =+$' "$out/$name.log" | tr -d '=' | sed 's/^ *//;s/ *$//' || true)")
  [ "$status" -eq 0 ] || failed=1
}

run_st auth "$out/corrected.yaml" $((${#select_auth[@]} / 2)) "${select_auth[@]}" -H "Authorization: Bearer $VIREO_TOKEN"
run_st auth-end "$out/corrected.yaml" $((${#select_auth_end[@]} / 2)) "${select_auth_end[@]}" -H "Authorization: Bearer $VIREO_TOKEN"
run_st anon "$out/corrected-anonymous.yaml" $((${#select_all[@]} / 2)) "${select_all[@]}"

echo
echo "=== conformance summary (${#operations[@]} operations, seed $seed, max examples $max_examples, ${SECONDS}s; logs in $out)"
for line in "${summaries[@]}"; do
  echo "  $line"
done
for name in auth auth-end anon; do
  [ -f "$out/$name.log" ] || continue
  echo "--- $name"
  sed -n '/^=* SUMMARY =*$/,$p' "$out/$name.log" | sed -n '/^Failures:/,/^$/p;/^Errors:/,/^$/p;/^Test cases:/,/^$/p'
done
exit "$failed"
