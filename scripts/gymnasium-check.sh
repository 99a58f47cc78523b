#!/usr/bin/env bash
# Runs a SATR policy file in the real Gymnasium (docs/GYMNASIUM_CHECK.md):
#
#   scripts/gymnasium-check.sh POLICY [--episodes N] [--seed S] [--json] [...]
#
# Creates (once) a virtual environment at ${SATR_GYM_VENV:-.venv-gym} with `python3 -m venv`,
# installs gymnasium 1.x (with its MuJoCo extra: imageio, packaging), numpy and pip `mujoco`, then
# runs scripts/gymnasium_check.py with all the arguments. Only PyPI is needed.
#
# mujoco: 3.0.0, which reproduces the project's MuJoCo 2.2.2 best (docs/TASKS.md, "Physics
# versions"), when pip has a wheel of it for this Python; otherwise the closest later version with
# a wheel, preferring those below 3.5.0 (from 3.5.0 on, contacts with geom margins differ slightly:
# Hopper, Ant, Humanoid). SATR_GYM_MUJOCO=VERSION forces a version. The versions used are printed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${SATR_GYM_VENV:-.venv-gym}"
case "$venv" in /*) ;; *) venv="$root/$venv" ;; esac
gymnasium_spec='gymnasium[mujoco]>=1.0,<2'
preferred_mujoco="3.0.0"

log() { echo "gymnasium-check: $*" >&2; }

if [ ! -x "$venv/bin/python" ]; then
    log "creating the virtual environment $venv"
    python3 -m venv "$venv" || {
        log "'python3 -m venv' failed; on Debian/Ubuntu install python3-venv (scripts/setup.sh does)"
        exit 1
    }
fi
# Keep the environment out of git even where .gitignore does not name it (Python >= 3.13 venv does
# this itself).
[ -e "$venv/.gitignore" ] || echo '*' > "$venv/.gitignore"
py="$venv/bin/python"
pip=("$py" -m pip --disable-pip-version-check -q)

installed_mujoco() { "$py" -c 'import mujoco; print(mujoco.__version__)' 2>/dev/null || true; }
ready() {
    "$py" - <<'EOF' >/dev/null 2>&1
import gymnasium, imageio, mujoco, numpy
assert gymnasium.__version__.split(".")[0] == "1"
EOF
}

try_mujoco() { "${pip[@]}" install --only-binary=mujoco "mujoco==$1" >/dev/null 2>&1; }

want="${SATR_GYM_MUJOCO:-}"
have="$(installed_mujoco)"
if ! ready || { [ -n "$want" ] && [ "$have" != "$want" ]; }; then
    log "installing $gymnasium_spec, numpy and mujoco into $venv"
    "${pip[@]}" install --upgrade pip >/dev/null 2>&1 || true
    if [ -n "$want" ]; then
        try_mujoco "$want" || { log "no installable wheel of mujoco==$want for $("$py" -V)"; exit 1; }
        chosen="$want"
    elif try_mujoco "$preferred_mujoco"; then
        chosen="$preferred_mujoco"
    else
        log "no wheel of mujoco==$preferred_mujoco for $("$py" -V); trying the closest later versions"
        # Versions pip can see, ascending, from 3.0.0 on: those below 3.5.0 first, then the rest.
        mapfile -t candidates < <("$py" -m pip index versions mujoco --only-binary=:all: 2>/dev/null \
            | sed -n 's/^Available versions: //p' | tr ',' '\n' | tr -d ' ' | "$py" -c '
import sys
def key(v):
    return tuple(int("".join(c for c in part if c.isdigit()) or 0) for part in v.split(".")[:3])
vs = sorted({v for v in sys.stdin.read().split() if key(v) > (3, 0, 0)}, key=key)
for v in [v for v in vs if key(v) < (3, 5, 0)] + [v for v in vs if key(v) >= (3, 5, 0)]:
    print(v)')
        chosen=""
        for v in "${candidates[@]}"; do
            if try_mujoco "$v"; then chosen="$v"; break; fi
        done
        [ -n "$chosen" ] || { log "found no installable mujoco wheel >= 3.0.0 for $("$py" -V)"; exit 1; }
    fi
    "${pip[@]}" install "$gymnasium_spec" numpy "mujoco==$chosen"
fi

versions="$("$py" -c 'import sys, gymnasium, mujoco, numpy; print(f"python {sys.version.split()[0]}, gymnasium {gymnasium.__version__}, mujoco {mujoco.__version__}, numpy {numpy.__version__}")')"
log "using $versions ($venv)"
mj="$(installed_mujoco)"
if [ "$mj" != "$preferred_mujoco" ]; then
    log "note: mujoco $mj, not $preferred_mujoco; see docs/TASKS.md, 'Physics versions'$(
        "$py" -c 'import mujoco,sys; v=tuple(int(x) for x in mujoco.__version__.split(".")[:2]); sys.stdout.write(" (>= 3.5: contacts with geom margins differ slightly)" if v >= (3, 5) else "")')"
fi

exec "$py" "$root/scripts/gymnasium_check.py" "$@"
