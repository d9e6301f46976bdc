# Shared by scripts/run and scripts/test: installs what building and testing Settle needs,
# once per machine (kept under ~/.cargo and ~/.cache/settle), and starts PostgreSQL for tests.
# Sourced, not executed.

CARGO_LEPTOS_VERSION=0.3.10
SCHEMATHESIS_VERSION=4.32.5
CARGO_FUZZ_VERSION=0.13.2
SETTLE_CACHE="${SETTLE_CACHE:-$HOME/.cache/settle}"
export PATH="$HOME/.cargo/bin:$PATH"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Only called when something is missing, so the package lists are refreshed each time.
apt_install() {
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock
}

# The WebAssembly target, cargo-leptos, the wasm-bindgen CLI matching Cargo.lock, and a
# wasm-opt that produces wasm Chromium can hydrate (npm's binaryen; Debian's v108 cannot).
ensure_build_tools() {
  rustup target list --installed | grep -q wasm32-unknown-unknown \
    || rustup target add wasm32-unknown-unknown
  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    echo "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 13 minutes, once per machine)"
    cargo install cargo-leptos@"$CARGO_LEPTOS_VERSION" --locked
  fi
  [ -f Cargo.lock ] || cargo generate-lockfile
  local wbg
  wbg=$(wasm_bindgen_version)
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $wbg"; then
    echo "installing wasm-bindgen-cli $wbg"
    cargo install wasm-bindgen-cli --version "$wbg"
  fi
  if [ ! -x "$SETTLE_CACHE/node/node_modules/.bin/wasm-opt" ]; then
    command -v npm >/dev/null || apt_install nodejs npm
    mkdir -p "$SETTLE_CACHE/node"
    npm install --prefix "$SETTLE_CACHE/node" --no-audit --no-fund binaryen@132 >/dev/null
  fi
  export PATH="$SETTLE_CACHE/node/node_modules/.bin:$PATH"
}

# Chromium for the end-to-end tests, PostgreSQL 15 for the storage suite, wrk for the
# benchmarks' smoke run, Playwright's client.
ensure_test_tools() {
  command -v chromium >/dev/null || apt_install chromium
  command -v pg_ctlcluster >/dev/null || apt_install postgresql-15
  command -v sqlite3 >/dev/null || apt_install sqlite3
  command -v wrk >/dev/null || apt_install wrk
  (cd end2end && npm ci --no-audit --no-fund >/dev/null)
  ensure_schemathesis
}

# cargo-fuzz (crates.io), which builds and runs the libFuzzer targets in fuzz/.
ensure_cargo_fuzz() {
  if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
    cargo install cargo-fuzz@"$CARGO_FUZZ_VERSION" --locked
  fi
}

# schemathesis (PyPI), which fuzzes the agency API from its OpenAPI document, in its own
# virtual environment.
ensure_schemathesis() {
  local venv="$SETTLE_CACHE/schemathesis-$SCHEMATHESIS_VERSION"
  if [ ! -x "$venv/bin/st" ]; then
    python3 -m venv "$venv" 2>/dev/null || { apt_install python3-venv && python3 -m venv "$venv"; }
    "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  fi
  export PATH="$venv/bin:$PATH"
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

# Starts the machine's PostgreSQL 15 cluster and makes sure the `settle` role exists.
postgres_up() {
  if ! pg_lsclusters -h 2>/dev/null | awk '$1 == "15" && $2 == "main"' | grep -q online; then
    as_root pg_ctlcluster 15 main start
  fi
  for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 && break; sleep 0.2; done
  as_postgres psql -q -v ON_ERROR_STOP=1 -c "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'settle') THEN
        CREATE ROLE settle LOGIN PASSWORD 'settle' CREATEDB;
      END IF; END \$\$;"
}

# Starts PostgreSQL, makes a fresh test database, exports its URL.
start_postgres() {
  postgres_up
  as_postgres dropdb --if-exists settle_test
  as_postgres createdb -O settle settle_test
  export SETTLE_TEST_DATABASE_URL="postgres://settle:settle@127.0.0.1:5432/settle_test"
  export SETTLE_REQUIRE_POSTGRES=1
}
