#!/usr/bin/env bash
# Installs the software we test against but did not write. Idempotent; quiet when done already.
#   libcoap's command-line client `coap-client-notls` (Debian package libcoap3-bin), used by the
#   CoAP interop tests in tests/client/coap/.
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
