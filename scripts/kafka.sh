#!/usr/bin/env bash
# A real, single-node Apache Kafka broker (KRaft) on 127.0.0.1 without Docker.
#
#   scripts/kafka.sh start    fetch Kafka from Maven Central (first run), format storage, start, wait until ready
#   scripts/kafka.sh stop     stop it and wait until the JVM is gone
#   scripts/kafka.sh status   exit 0 when running
#   scripts/kafka.sh reset    stop and delete its data
#
# Environment: RTCRM_KAFKA_PORT (default 9093, the seed's port), RTCRM_KAFKA_DIR (default .kafka in the repo),
# RTCRM_KAFKA_EXTRA_CONFIG (a file whose lines are appended to server.properties, e.g. for SASL listeners).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
port=${RTCRM_KAFKA_PORT:-9093}
controller_port=$((port + 1))
home=${RTCRM_KAFKA_DIR:-$repo/.kafka}
libs=$home/libs
data=$home/data-$port
pidfile=$home/broker-$port.pid
logfile=$home/broker-$port.log
props=$home/server-$port.properties

say() { printf 'kafka: %s\n' "$*"; }

running_pid() {
  [ -f "$pidfile" ] || return 1
  local pid
  pid=$(cat "$pidfile")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q 'kafka.Kafka' "/proc/$pid/cmdline" 2>/dev/null; then
    echo "$pid"
    return 0
  fi
  return 1
}

fetch() {
  if [ -f "$libs/.complete" ]; then return 0; fi
  say "fetching Apache Kafka jars from Maven Central into $libs (first run only)"
  rm -rf "$libs"
  mkdir -p "$libs" "$home"
  if ! mvn -B -Dstyle.color=never -f "$repo/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$libs" -DincludeScope=runtime >"$home/mvn-fetch.log" 2>&1; then
    say "fetching Kafka failed; see $home/mvn-fetch.log:"
    tail -n 20 "$home/mvn-fetch.log"
    exit 1
  fi
  touch "$libs/.complete"
}

java_cmd() {
  java -Xmx256m \
    -Dlog4j2.configurationFile="$repo/kafka/log4j2.properties" \
    -Dkafka.logs.file="$logfile" \
    -cp "$libs/*" "$@"
}

write_props() {
  cat > "$props" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
log.dirs=$data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
log.retention.hours=24
PROPS
  if [ -n "${RTCRM_KAFKA_EXTRA_CONFIG:-}" ]; then cat "$RTCRM_KAFKA_EXTRA_CONFIG" >> "$props"; fi
}

ready() {
  # The broker has logged its start and answers an ApiVersions/metadata round trip on its client port.
  grep -q 'Kafka Server started' "$logfile" 2>/dev/null || return 1
  java -cp "$libs/*" -Dlog4j2.configurationFile="$repo/kafka/log4j2.properties" -Dkafka.logs.file=/dev/null \
    org.apache.kafka.tools.BrokerApiVersionsCommand --bootstrap-server "127.0.0.1:$port" >/dev/null 2>&1
}

start() {
  if pid=$(running_pid); then
    say "already running on 127.0.0.1:$port (pid $pid)"
    return 0
  fi
  command -v java >/dev/null || { say "java not found: install a JDK 17+"; exit 1; }
  fetch
  mkdir -p "$home"
  write_props
  if [ ! -f "$data/meta.properties" ]; then
    say "formatting KRaft storage in $data"
    java_cmd kafka.tools.StorageTool format --standalone -t "$(java_cmd kafka.tools.StorageTool random-uuid)" \
      -c "$props" >/dev/null
  fi
  : > "$logfile"
  say "starting broker on 127.0.0.1:$port (log: $logfile)"
  nohup java -Xms256m -Xmx1g -XX:+UseG1GC \
    -Dlog4j2.configurationFile="$repo/kafka/log4j2.properties" \
    -Dkafka.logs.file="$logfile" \
    -cp "$libs/*" kafka.Kafka "$props" >"$home/broker-$port.out" 2>&1 &
  echo $! > "$pidfile"
  for _ in $(seq 1 120); do
    if ! running_pid >/dev/null; then
      say "broker exited during start-up; last log lines:"
      tail -n 30 "$logfile" "$home/broker-$port.out" || true
      exit 1
    fi
    if ready; then
      say "ready on 127.0.0.1:$port (pid $(cat "$pidfile"))"
      return 0
    fi
    sleep 1
  done
  say "broker did not become ready within 120 s; last log lines:"
  tail -n 30 "$logfile" || true
  stop
  exit 1
}

stop() {
  local pid
  if ! pid=$(running_pid); then
    say "not running on port $port"
    rm -f "$pidfile"
    return 0
  fi
  say "stopping broker (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; say "stopped"; return 0; }
    sleep 0.5
  done
  say "broker did not stop within 30 s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.5
  rm -f "$pidfile"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if pid=$(running_pid); then say "running on 127.0.0.1:$port (pid $pid)"; else say "not running"; exit 1; fi ;;
  reset) stop; rm -rf "$data"; say "data deleted" ;;
  *) echo "usage: $0 start|stop|status|reset" >&2; exit 2 ;;
esac
