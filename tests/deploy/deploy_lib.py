"""Helpers for the deployment tests: render the chart, read manifests, check built-in kinds against
the Kubernetes API's field names, and run kubectl against the local API server.

The local API server stores built-in kinds as given (docs/local-apiserver.md), so a misspelt
field in a Deployment would pass `kubectl apply` there and fail on a real cluster. check_fields()
closes that gap with the official Python client's models (python3-kubernetes), which are
generated from the Kubernetes OpenAPI document and list every field of every built-in type.
"""

import atexit
import base64
import json
import os
import re
import shutil
import subprocess
import tempfile

import yaml

SRC = os.environ.get("CTE_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("CTE_BIN_DIR") or os.path.join(SRC, "build", "bin")
CHART = os.path.join(SRC, "charts", "cte-operator")
RENDER = os.path.join(BIN, "render-chart")
RELEASE = "cte-operator"
NAMESPACE = "cte-system"


def ci_values(name):
    return os.path.join(CHART, "ci", name + "-values.yaml")


def run(cmd, check=True, stdin=None, env=None):
    """Runs cmd; returns (returncode, stdout, stderr). With check, a failure raises with both."""
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=env)
    if check and proc.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s%s" % (" ".join(cmd), proc.returncode,
                                                      proc.stdout, proc.stderr))
    return proc.returncode, proc.stdout, proc.stderr


def render_args(*args, release=RELEASE, namespace=NAMESPACE):
    return [RENDER, CHART, "--release-name", release, "--namespace", namespace, *args]


def render(*args, release=RELEASE, namespace=NAMESPACE):
    """The chart's manifests as `helm template` would print them."""
    return run(render_args(*args, release=release, namespace=namespace))[1]


def render_error(*args, release=RELEASE, namespace=NAMESPACE):
    """Renders values that must be refused; returns the error message."""
    code, out, err = run(render_args(*args, release=release, namespace=namespace), check=False)
    if code == 0:
        raise AssertionError("render %s succeeded, expected an error:\n%s" % (args, out))
    return err


def objects(text):
    return [d for d in yaml.safe_load_all(text) if d]


def render_objects(*args, **kw):
    return objects(render(*args, **kw))


def find(objs, kind, name=None):
    found = [o for o in objs if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    if len(found) != 1:
        raise AssertionError("want one %s %s, found %d: %s" % (
            kind, name or "", len(found), [o["metadata"]["name"] for o in objs if o["kind"] == kind]))
    return found[0]


def kinds(objs):
    return sorted("%s/%s" % (o["kind"], o["metadata"]["name"]) for o in objs)


def container(deployment, name="manager"):
    for c in deployment["spec"]["template"]["spec"]["containers"]:
        if c["name"] == name:
            return c
    raise AssertionError("no container " + name)


def key(obj):
    meta = obj["metadata"]
    return (obj["apiVersion"], obj["kind"], meta.get("namespace", ""), meta["name"])


def by_key(objs):
    out = {}
    for o in objs:
        k = key(o)
        if k in out:
            raise AssertionError("duplicate object %s" % (k,))
        out[k] = o
    return out


def make_tls_pair(directory):
    """A throw-away self-signed certificate and key (PEM) for the ingest TLS Secret."""
    cert = os.path.join(directory, "tls.crt")
    keyfile = os.path.join(directory, "tls.key")
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-subj", "/CN=cte-operator-ingest", "-days", "1", "-keyout", keyfile, "-out", cert])
    return cert, keyfile


def b64(data):
    return base64.b64decode(data).decode()


# --- field names of built-in kinds, from the official client's generated models ---------------

_MODELS = {
    ("v1", "Namespace"): "V1Namespace",
    ("v1", "ServiceAccount"): "V1ServiceAccount",
    ("v1", "Service"): "V1Service",
    ("v1", "Secret"): "V1Secret",
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("v1", "PersistentVolumeClaim"): "V1PersistentVolumeClaim",
    ("apps/v1", "Deployment"): "V1Deployment",
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): "V1ClusterRole",
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): "V1ClusterRoleBinding",
    ("rbac.authorization.k8s.io/v1", "Role"): "V1Role",
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): "V1RoleBinding",
    ("policy/v1", "PodDisruptionBudget"): "V1PodDisruptionBudget",
    ("networking.k8s.io/v1", "NetworkPolicy"): "V1NetworkPolicy",
}

_PRIMITIVES = {"str": str, "bool": bool, "int": int, "float": (int, float)}


def _check_type(value, type_name, path, errors):
    from kubernetes import client  # Debian's python3-kubernetes, for /usr/bin/python3
    if value is None:
        return
    if type_name in _PRIMITIVES:
        want = _PRIMITIVES[type_name]
        if type_name != "bool" and isinstance(value, bool) or not isinstance(value, want):
            errors.append("%s: want %s, got %r" % (path, type_name, value))
        return
    if type_name in ("object", "datetime", "date"):
        return  # IntOrString, Quantity in some places, RawExtension, times
    m = re.fullmatch(r"list\[(.+)\]", type_name)
    if m:
        if not isinstance(value, list):
            errors.append("%s: want a list, got %r" % (path, value))
            return
        for i, item in enumerate(value):
            _check_type(item, m.group(1), "%s[%d]" % (path, i), errors)
        return
    m = re.fullmatch(r"dict\(str, (.+)\)", type_name)
    if m:
        if not isinstance(value, dict):
            errors.append("%s: want a map, got %r" % (path, value))
            return
        for k, item in value.items():
            _check_type(item, m.group(1), "%s[%s]" % (path, k), errors)
        return
    model = getattr(client, type_name)
    if not isinstance(value, dict):
        errors.append("%s: want an object (%s), got %r" % (path, type_name, value))
        return
    by_json = {json_name: attr for attr, json_name in model.attribute_map.items()}
    for field, item in value.items():
        if field not in by_json:
            errors.append("%s.%s: unknown field of %s" % (path, field, type_name))
            continue
        _check_type(item, model.openapi_types[by_json[field]], "%s.%s" % (path, field), errors)


def check_fields(obj):
    """Field names and JSON types of a built-in object, as the Kubernetes API defines them.
    Returns a list of errors (empty when the object is valid); custom kinds are skipped."""
    model = _MODELS.get((obj.get("apiVersion"), obj.get("kind")))
    if model is None:
        return []
    errors = []
    _check_type(obj, model, "%s/%s" % (obj["kind"], obj["metadata"]["name"]), errors)
    return errors


# --- kubectl against the local API server started by tests/e2e/lib.sh -------------------------

def kubectl(*args, stdin=None, check=True):
    work = os.environ["WORK"]
    return run(["kubectl", "--cache-dir", os.path.join(work, "kube-cache"), *args],
               stdin=stdin, check=check)


_SCRATCH = []


def scratch_dir():
    """A fresh directory, removed when the test process exits."""
    if not _SCRATCH:
        root = tempfile.mkdtemp(prefix="cte-deploy.", dir=os.environ.get("WORK"))
        _SCRATCH.append(root)
        atexit.register(shutil.rmtree, root, ignore_errors=True)
    return tempfile.mkdtemp(dir=_SCRATCH[0])


def dump(obj):
    return json.dumps(obj, indent=2, sort_keys=True)
