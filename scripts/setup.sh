# Shared set-up for the project's scripts: puts Swift on PATH and installs the Debian packages
# the build needs when any is missing. Sourced, not run; safe to source from an interactive shell
# (`source scripts/setup.sh && build_pfgm`): it neither changes the caller's folder nor exits the
# shell.
# Defines: pfgm_root (this checkout), pfgm (its release binary), build_pfgm, ensure_packages.

# ncurses-term: the direct-colour terminal types (xterm-direct, tmux-direct) true colour runs under.
need_packages=(libopenblas-dev liblapacke-dev libncursesw5-dev ncurses-term zlib1g-dev tmux
    dataset-fashion-mnist)

if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
if ! command -v swift >/dev/null 2>&1; then
    echo "error: the Swift toolchain (6.2 or newer) is not on PATH; install it and run again" >&2
    return 1 2>/dev/null || exit 1
fi

# Installs those of the named Debian packages that are missing; `--lean` leaves out their recommendations.
ensure_packages() {
    local options=()
    if [ "$1" = "--lean" ]; then options=(--no-install-recommends); shift; fi
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    echo "installing Debian packages: ${missing[*]}" >&2
    local sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${options[@]}" "${missing[@]}" >&2
}
ensure_packages "${need_packages[@]}" || return 1 2>/dev/null || exit 1

# The release binary, and how to build just it, wherever the caller is.
pfgm_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pfgm="$pfgm_root/.build/release/pfgm"
build_pfgm() { swift build --package-path "$pfgm_root" -c release --product pfgm >&2; }

# Stops the calling script (exit 2) unless $2 is a whole number ≥ 1; $1 names it in the message.
need_count() {
    [[ $2 =~ ^[1-9][0-9]*$ ]] && return 0
    echo "$(basename "$0"): $1 must be a whole number of at least 1, got '$2'" >&2
    exit 2
}
