# Sourced by the integration tests (not a test itself: ctest runs tests/integration/*.sh only).
# Needs: B (build dir with imago-cloud), optional CB (where imago-cloud comes from, default B),
# IMAGO_PLUGIN (broker plugin, default $CB/imago_broker.so).  Everything stays on 127.0.0.1.

# A free TCP port on the loopback (bound and released; callers retry on a collision).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# device_conf N [LINE...]: the imago-agent config of device N of a `imago factory provision` batch
# made in $work (SoftHSM2 token dev-N, PIN in $work/pin, store $work/batch/devices/N.store), pointing
# at the broker on 127.0.0.1:$mport with the CA files of $work/ca; extra "key = value" LINEs follow.
device_conf() {
  local n=$1
  shift
  printf '%s\n' "token = pkcs11:token=dev-$n" "pin_file = $work/pin" "store = $work/batch/devices/$n.store" \
    "host = 127.0.0.1" "port = $mport" "ca = $work/ca/server-ca.crt" "root_ca = $work/ca/root.crt" \
    "server_name = localhost" "$@"
}

# http_serve DIR LOG: a static HTTP server (python3 -m http.server) for DIR on 127.0.0.1 and a free
# port, retried on a collision; sets sport (its port) and spid (its pid: the caller stops it).
http_serve() {
  local dir=$1 log=$2 try i
  for try in 1 2 3 4 5; do
    sport=$(free_port)
    python3 -m http.server --bind 127.0.0.1 --directory "$dir" "$sport" >"$log" 2>&1 &
    spid=$!
    for i in $(seq 50); do
      (exec 3<>/dev/tcp/127.0.0.1/"$sport") 2>/dev/null && return 0
      kill -0 "$spid" 2>/dev/null || break
      sleep 0.1
    done
    kill "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true
    spid=
  done
  return 1
}

# cloud_start DATA LOG: `imago-cloud up` in the background (appending to LOG), then wait until
# the broker accepts connections and the service's own MQTT client is connected.  Sets cpid.
cloud_start() {
  local data=$1 log=$2 first i
  first=$(($(wc -l 2>/dev/null <"$log" || echo 0) + 1))
  "${CB:-$B}/imago-cloud" up --data "$data" --passphrase-file cloud.pass >>"$log" 2>&1 &
  cpid=$!
  for i in $(seq 150); do
    if (exec 3<>/dev/tcp/127.0.0.1/"$mport") 2>/dev/null &&
      tail -n +"$first" "$log" | grep -q "event=mqtt_connected"; then
      return 0
    fi
    kill -0 "$cpid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# cloud_stop: SIGTERM and wait; returns the service's exit status (0 after a clean stop).
cloud_stop() {
  local rc=0
  [ -n "${cpid:-}" ] || return 0
  kill -TERM "$cpid" 2>/dev/null || true
  wait "$cpid" 2>/dev/null || rc=$?
  cpid=
  return $rc
}

# cloud_create DATA LOG MANIFEST...: a fresh data directory from ./ca (cloud passphrase in
# ./cloud.pass) on free ports, the batches imported, the service started; retried on a port
# collision.  Sets mport, hport, aport (the app API), cpid.
cloud_create() {
  local data=$1 log=$2 try m
  shift 2
  for try in 1 2 3 4 5; do
    mport=$(free_port)
    hport=$(free_port)
    aport=$(free_port)
    rm -rf "$data" "$log"
    "${CB:-$B}/imago-cloud" init --data "$data" --ca ca --cloud-passphrase-file cloud.pass \
      --mqtt-port "$mport" --http-port "$hport" --api-port "$aport" \
      --plugin "${IMAGO_PLUGIN:-${CB:-$B}/imago_broker.so}" >/dev/null || return 1
    for m in "$@"; do
      "${CB:-$B}/imago-cloud" import-batch --data "$data" "$m" >/dev/null || return 1
    done
    cloud_start "$data" "$log" && return 0
    cloud_stop || true
  done
  return 1
}
