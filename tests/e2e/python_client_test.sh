#!/usr/bin/env bash
# The official Kubernetes Python client (Debian's python3-kubernetes) against local-apiserver:
# see python_client_test.py. Uses /usr/bin/python3, where Debian installs the package.
source "$CTE_SOURCE_DIR/tests/e2e/lib.sh"
start_apiserver
/usr/bin/python3 -W ignore::ResourceWarning "$SRC_DIR/tests/e2e/python_client_test.py" || fail "the Python client tests failed"
echo "PASS python_client_test"
