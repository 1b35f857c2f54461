#!/usr/bin/env bash
# Runs one Python test file against a fresh local API server (started by tests/e2e/lib.sh, which
# also removes it and the work directory on exit). Uses /usr/bin/python3, where Debian installs
# python3-kubernetes and python3-yaml.
source "$CTE_SOURCE_DIR/tests/e2e/lib.sh"
start_apiserver
export WORK
/usr/bin/python3 -W ignore::ResourceWarning "$1" || fail "$(basename "$1") failed"
echo "PASS $(basename "$1")"
