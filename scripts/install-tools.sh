#!/usr/bin/env bash
# Installs the software we test against but did not write. Idempotent; quiet when done already.
#   libcoap's command-line client `coap-client-notls` (Debian package libcoap3-bin), used by the
#   CoAP interop tests in tests/client/coap/; the same package brings coap-server-openssl and
#   coap-server-gnutls, the DTLS-PSK servers of the interop tests in tests/client/dtls/.
#   The optional Python package DTLSSocket (tinydtls, the `dtls` extra) built into .venv when
#   .venv exists: it needs autoconf, automake and libtool (Debian) to compile.
#   The optional Python packages of the `x509` extra (pyOpenSSL, cryptography: DTLS with
#   certificates and the fleet CA) installed into .venv when .venv exists (wheels, no build).
#   The optional Python package uvloop (the `fast` extra) installed into .venv when .venv exists,
#   so that the suite also runs on uvloop (make test; tests/conftest.py --event-loop).
#   Debian's openssl command line, whose `openssl s_server -dtls` is a second DTLS-PSK peer of
#   tests/client/dtls/test_alert_or_timeout.py (what a server sends for a wrong key).
#   Debian's chromium, the headless browser of the page tests (tests/browser.py).
#   Debian's prometheus for its `promtool check metrics`, run on a live scrape of `fleet run
#   --metrics-port` by tests/deploy/test_grafana.py.
#   The npm packages lwm2m-node-lib and coap-shepherd (LwM2M servers), pinned by
#   tests/interop/package-lock.json and installed into tests/interop/node_modules, used by the
#   LwM2M interop tests in tests/interop/.
set -euo pipefail
cd "$(dirname "$0")/.."

log="$(mktemp)"
trap 'rm -f "$log"' EXIT

fail() {
    echo "install-tools: $*" >&2
    if [ -s "$log" ]; then
        cat "$log" >&2
    fi
    exit 1
}

# Run as root, through sudo when needed.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        fail "need root (or sudo) to run: $*"
    fi
}

install_debian_package() {  # package, command it provides
    local package="$1" command="$2"
    if command -v "$command" >/dev/null 2>&1; then
        return 0
    fi
    command -v apt-get >/dev/null 2>&1 ||
        fail "$command is missing and there is no apt-get: install $package by hand"
    export DEBIAN_FRONTEND=noninteractive
    # refresh the package lists only when they do not know the package yet
    if ! apt-cache show "$package" >/dev/null 2>&1; then
        as_root apt-get update -qq >"$log" 2>&1 || fail "apt-get update failed"
    fi
    as_root apt-get install -y -qq --no-install-recommends "$package" >"$log" 2>&1 ||
        fail "apt-get install $package failed"
    command -v "$command" >/dev/null 2>&1 || fail "$package is installed but $command is not on PATH"
    echo "install-tools: installed $package ($command)"
}

install_debian_package libcoap3-bin coap-client-notls
install_debian_package openssl openssl
# Debian's Chromium for the browser tests (tests/browser.py drives it with Playwright; Playwright's
# own browser download is not reachable from CI).
install_debian_package chromium chromium
# promtool (Debian package prometheus) lints a live scrape of our metrics endpoint.
install_debian_package prometheus promtool

# Installs tests/interop's npm packages exactly as locked, unless the locked versions are there.
install_interop_npm_packages() {
    local folder=tests/interop package locked installed stale=""
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        install_debian_package nodejs node
        install_debian_package npm npm
    fi
    # coap-shepherd's TLV codec lwm2m-codec is raised by package.json's "overrides"
    for package in lwm2m-node-lib coap-shepherd lwm2m-codec; do
        locked="$(node -p "require('./$folder/package-lock.json').packages['node_modules/$package'].version" \
            2>"$log")" || fail "cannot read the $package version from $folder/package-lock.json"
        installed="$(node -p "require('./$folder/node_modules/$package/package.json').version" \
            2>/dev/null || true)"
        if [ "$installed" != "$locked" ]; then
            stale="$stale $package $locked"
        fi
    done
    if [ -z "$stale" ]; then
        return 0
    fi
    npm ci --prefix "$folder" --no-audit --no-fund --loglevel=error >"$log" 2>&1 ||
        fail "npm ci in $folder failed"
    echo "install-tools: installed$stale ($folder/node_modules)"
}

install_interop_npm_packages

# Builds the `dtls` extra (DTLSSocket, pinned in pyproject.toml) into .venv, after the build tools tinydtls needs.
install_dtlssocket() {
    local python=.venv/bin/python
    [ -x "$python" ] || return 0
    if "$python" -c "import DTLSSocket.dtls" >/dev/null 2>&1; then
        return 0
    fi
    install_debian_package autoconf autoconf
    install_debian_package automake automake
    install_debian_package libtool libtoolize
    "$python" -m pip install --quiet -e ".[dtls]" >"$log" 2>&1 ||
        fail "pip install -e .[dtls] (DTLSSocket) failed"
    "$python" -c "import DTLSSocket.dtls" >"$log" 2>&1 || fail "DTLSSocket installed but not importable"
    echo "install-tools: installed the dtls extra (DTLSSocket) into .venv"
}

install_dtlssocket

# Installs an extra of pyproject.toml into .venv (when .venv exists) unless CHECK imports already.
install_python_extra() {  # extra, python statement that works once installed, what it brings
    local extra="$1" check="$2" what="$3" python=.venv/bin/python
    [ -x "$python" ] || return 0
    if "$python" -c "$check" >/dev/null 2>&1; then
        return 0
    fi
    "$python" -m pip install --quiet -e ".[$extra]" >"$log" 2>&1 ||
        fail "pip install -e .[$extra] ($what) failed"
    "$python" -c "$check" >"$log" 2>&1 || fail "the $extra extra ($what) is installed but not importable"
    echo "install-tools: installed the $extra extra ($what) into .venv"
}

# the `x509` extra (pyOpenSSL and cryptography, pinned in pyproject.toml)
install_python_extra x509 "import OpenSSL.SSL, cryptography.x509" "pyOpenSSL, cryptography"
# the `fast` extra: uvloop, the event loop the suite also runs on
install_python_extra fast "import uvloop" "uvloop"
