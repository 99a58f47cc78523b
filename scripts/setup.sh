#!/usr/bin/env bash
# Installs the system packages SATR needs on Debian/Ubuntu. Idempotent: it installs only what is
# missing. MuJoCo 2.2.2 (libmujoco-dev) is required; Open MPI (libopenmpi-dev, openmpi-bin) only for
# the opt-in MPI build (pass --with-mpi); librsvg2-bin lets `satr plot` also write PNG.
# libhdf5-dev: `satr export --format nir` (NIR's HDF5 files; satr links libhdf5_serial).
# python3-venv: scripts/test-nir.sh checks the NIR files with the `nir` package from PyPI.
# ffmpeg, libegl1, libegl-mesa0, libgl1-mesa-dri: `satr render` (MuJoCo's renderer in a headless
# EGL context on Mesa's surfaceless platform; ffmpeg encodes the frames).
set -euo pipefail

packages=(libmujoco-dev librsvg2-bin libhdf5-dev python3-venv ffmpeg libegl1 libegl-mesa0 libgl1-mesa-dri)
for arg in "$@"; do
    case "$arg" in
        # pkg-config: SwiftPM finds Open MPI's headers (not on the default include path) through it.
        --with-mpi) packages+=(libopenmpi-dev openmpi-bin pkg-config) ;;
        -h|--help) echo "usage: scripts/setup.sh [--with-mpi]"; exit 0 ;;
        *) echo "setup.sh: unknown option '$arg' (known: --with-mpi)" >&2; exit 2 ;;
    esac
done

if ! command -v swift >/dev/null 2>&1; then
    echo "setup.sh: 'swift' was not found on PATH. Install Swift 6.1 or newer (https://swift.org/install) first." >&2
    exit 1
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "setup.sh: system packages present: ${packages[*]}"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup.sh: missing ${missing[*]}, and this is not a Debian/Ubuntu system (no apt-get)." >&2
    echo "Install MuJoCo 2.2.x (headers in <mujoco/mujoco.h>, library libmujoco) by other means." >&2
    exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo="sudo"
    else
        echo "setup.sh: need root to install ${missing[*]}; run as root or install sudo, or run:" >&2
        echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
fi
echo "setup.sh: installing ${missing[*]}"
$sudo apt-get update
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "${missing[@]}"
