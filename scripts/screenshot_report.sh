#!/usr/bin/env bash
# Screenshot of the combined report (`cargo xtask reproduce-paper` writes out/report/index.html, self-contained) with
# a headless Chromium, for docs/ and reviews.
#
#   scripts/screenshot_report.sh [REPORT_HTML] [OUT_PNG]
#       REPORT_HTML  default out/report/index.html (relative paths: to the current folder)
#       OUT_PNG      default docs/report-screenshot.png
#
# Environment: SCREENSHOT_WIDTH (default 1400) and SCREENSHOT_HEIGHT (default 4000) set the window, which is what
# gets captured (Chromium's --screenshot takes the window, not the whole page); CHROMIUM names the browser binary.
#
# Chromium comes from Debian (`apt-get install chromium`): when no chromium, chromium-browser or google-chrome is on
# the PATH, the script installs it with apt-get, as root or through `sudo -n`, and otherwise says what to install.
# (puppeteer's browser download is not used: it fetches from a host that is not a package registry.)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
report="${1:-$repo_root/out/report/index.html}"
out_png="${2:-$repo_root/docs/report-screenshot.png}"
width="${SCREENSHOT_WIDTH:-1400}"
height="${SCREENSHOT_HEIGHT:-4000}"

die() { echo "screenshot_report: error: $*" >&2; exit 1; }

[ -f "$report" ] || die "$report does not exist (run \`cargo xtask reproduce-paper\` first, or pass the HTML file)"
report="$(cd "$(dirname "$report")" && pwd)/$(basename "$report")"
mkdir -p "$(dirname "$out_png")"
out_png="$(cd "$(dirname "$out_png")" && pwd)/$(basename "$out_png")"

find_browser() {
    local candidate
    for candidate in "${CHROMIUM:-}" chromium chromium-browser google-chrome google-chrome-stable; do
        [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 && { command -v "$candidate"; return 0; }
    done
    return 1
}

install_browser() {
    local packages=(chromium fonts-dejavu-core)
    [ -x /usr/bin/apt-get ] || die "no headless browser found and this is not a Debian-like system: install Chromium"
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        sudo -n true 2>/dev/null || die "no headless browser found: run  sudo apt-get install ${packages[*]}"
        sudo=(sudo -n)
    fi
    echo "screenshot_report: installing ${packages[*]} with apt-get" >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >&2
}

browser="$(find_browser)" || { install_browser; browser="$(find_browser)" || die "chromium is still not on the PATH"; }

profile="$(mktemp -d)"
tmp_png="$(dirname "$out_png")/.$(basename "$out_png").tmp-$$.png"
trap 'rm -rf "$profile" "$tmp_png"' EXIT

# --no-sandbox: root in containers has no user namespaces; --disable-dev-shm-usage: small /dev/shm in containers.
# Chromium's own chatter (D-Bus and the like) goes to a log, shown only on failure.
log="$profile/chromium.log"
if ! timeout 180 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars \
    --no-first-run --user-data-dir="$profile" --window-size="$width,$height" --screenshot="$tmp_png" \
    "file://$report" >"$log" 2>&1 || [ ! -s "$tmp_png" ]; then
    tail -n 20 "$log" >&2
    die "$browser did not write the screenshot"
fi
mv -f "$tmp_png" "$out_png"
echo "screenshot_report: $out_png (${width}x${height}) of $report"
