#!/usr/bin/env bash
# Checks that a package can depend on this one: no target of the manifest uses unsafeFlags, and
# Tests/ConsumerPackage (which depends on this package by path and uses SATRKit) builds and runs.
#
# SwiftPM refuses unsafeFlags in dependencies that are resolved by version (the usual
# `.package(url:from:)`), but accepts them from root packages and from path or branch
# dependencies, so building the path-based consumer alone would not prove their absence: the
# first check reads the evaluated manifest. The kernels choose their CPU level at run time instead
# of through compiler flags (docs/PERFORMANCE.md, "Runtime dispatch").
#
# Usage: bash scripts/test-consumer.sh [extra swift build flags, e.g. -c release]
set -euo pipefail
cd "$(dirname "$0")/.."
if swift package dump-package | grep -q '"unsafeFlags"'; then
    echo "test-consumer: Package.swift uses unsafeFlags; packages that depend on SATR by version cannot build" >&2
    exit 1
fi
echo "test-consumer: no unsafeFlags in the manifest"
swift build --package-path Tests/ConsumerPackage "$@"
swift run --package-path Tests/ConsumerPackage --skip-build "$@" Consumer
