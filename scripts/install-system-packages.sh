#!/usr/bin/env bash
# Install the Debian packages the tests and benchmarks need, only those missing (quiet when all present).
#   chromium            browser tests (Playwright drives Debian's chromium, no browser download)
#   wrk, nginx, libnginx-mod-http-modsecurity, modsecurity-crs   benchmarks and the reference WAF
#   postgresql, redis-server   storage backends (usually preinstalled and running)
set -euo pipefail
want=(chromium wrk nginx libnginx-mod-http-modsecurity modsecurity-crs postgresql redis-server)
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
