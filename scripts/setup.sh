# Shared set-up for the project's scripts: puts Swift on PATH and installs the Debian packages
# the build needs when any is missing. Sourced, not run.

need_packages=(libopenblas-dev liblapacke-dev libncursesw5-dev zlib1g-dev tmux dataset-fashion-mnist)

if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
if ! command -v swift >/dev/null 2>&1; then
    echo "error: the Swift toolchain (6.0 or newer) is not on PATH; install it and run again" >&2
    exit 1
fi

missing=()
for p in "${need_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}" >&2
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >&2
fi

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

# The release binary, and how to build just it.
pfgm="$PWD/.build/release/pfgm"
build_pfgm() { swift build -c release --product pfgm >&2; }
