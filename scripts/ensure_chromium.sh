#!/usr/bin/env bash
# The browser tests drive the system Chromium through Playwright (Playwright's own browser
# download is not used). Install Debian's `chromium` package where we can (root with apt-get),
# waiting for the package manager's lock rather than failing while another install runs;
# otherwise stop with one line naming what to install. PROVENANCE_CHROMIUM=/path overrides.
set -euo pipefail

need="the browser tests need Chromium: install it (Debian/Ubuntu: apt-get install chromium) or set PROVENANCE_CHROMIUM=/path/to/chromium"

if [ -n "${PROVENANCE_CHROMIUM:-}" ]; then
    [ -x "$PROVENANCE_CHROMIUM" ] && exit 0
    echo "PROVENANCE_CHROMIUM=$PROVENANCE_CHROMIUM is not executable; $need" >&2
    exit 1
fi
command -v chromium >/dev/null 2>&1 && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    wait_lock=(-o DPkg::Lock::Timeout=900)
    echo "installing Debian's chromium package for the browser tests (apt-get install chromium)"
    if ! apt-get install -y -q "${wait_lock[@]}" chromium >/dev/null 2>&1; then
        # A fresh machine may have no package lists yet; another apt run may hold their lock.
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            apt-get update -q "${wait_lock[@]}" >/dev/null 2>&1 && break
            sleep 30
        done
        apt-get install -y -q "${wait_lock[@]}" chromium >/dev/null
    fi
    command -v chromium >/dev/null 2>&1 && exit 0
fi
echo "$need" >&2
exit 1
