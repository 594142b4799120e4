# Sourced by scripts/quickstart and scripts/bench: starts Debian's
# docker-registry on a free 127.0.0.1 port with temporary storage and
# stops it (and removes the work dir) on exit.
# Sets: work (temp dir), port, registry_pid.

work="$(mktemp -d)"
registry_pid=""
stop_registry() {
  if [ -n "$registry_pid" ]; then
    kill "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap stop_registry EXIT

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
mkdir -p "$work/storage"
cat > "$work/registry.yml" <<YML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null || {
  echo "docker-registry did not start; its log:" >&2
  cat "$work/registry.log" >&2
  exit 1
}

# push_image LAYOUT_DIR REF: copies the layout's v1 image into the registry.
push_image() {
  skopeo copy --quiet --dest-tls-verify=false "oci:$1:v1" "docker://$2"
}
