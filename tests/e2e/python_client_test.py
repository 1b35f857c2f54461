"""The official Kubernetes Python client (Debian's python3-kubernetes) against the local API server.

kubectl is not the only client that matters: the operator, Argo CD and people's scripts speak to
the API in their own spelling (``watch=True``, ``allowWatchBookmarks=True``, strategic-merge
patches of dicts, MicroTime fields). Every call here is unchanged client code; the local API
server must answer it the way kube-apiserver does.

Run by python_client_test.sh, which starts the server and sets KUBECONFIG.
"""

import datetime
import json
import os
import time
import unittest

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

NS = "default"
GROUP, VERSION, PLURAL = "test.cte.netskope.io", "v1", "widgets"


def widget_crd():
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.test.cte.netskope.io"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": PLURAL, "singular": "widget", "kind": "Widget",
                      "listKind": "WidgetList"},
            "versions": [{
                "name": VERSION, "served": True, "storage": True,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {"type": "object",
                                 "properties": {"size": {"type": "integer"}}},
                        "status": {"type": "object",
                                   "properties": {"observedGeneration": {"type": "integer"},
                                                  "phase": {"type": "string"}}},
                    }}},
            }],
        },
    }


def wait_for(what, check, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


class PythonClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        config.load_kube_config(config_file=os.environ["KUBECONFIG"])
        cls.core = client.CoreV1Api()
        cls.custom = client.CustomObjectsApi()
        ext = client.ApiextensionsV1Api()
        try:
            ext.create_custom_resource_definition(widget_crd())
        except ApiException as e:
            if e.status != 409:
                raise

    def configmap(self, name, labels=None, data=None):
        body = client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name=name, labels=labels or {}), data=data or {"k": "v"})
        return self.core.create_namespaced_config_map(NS, body)

    def test_list_with_label_selector_and_paging(self):
        for i in range(7):
            self.configmap("page-%d" % i, labels={"suite": "paging", "parity": str(i % 2)})
        odd = self.core.list_namespaced_config_map(NS, label_selector="suite=paging,parity=1")
        self.assertEqual(sorted(c.metadata.name for c in odd.items),
                         ["page-1", "page-3", "page-5"])
        names, token, pages = [], None, 0
        while True:
            page = self.core.list_namespaced_config_map(
                NS, label_selector="suite=paging", limit=3, _continue=token)
            pages += 1
            names += [c.metadata.name for c in page.items]
            token = page.metadata._continue
            if not token:
                break
        self.assertEqual(pages, 3)
        self.assertEqual(sorted(names), ["page-%d" % i for i in range(7)])
        not_in = self.core.list_namespaced_config_map(
            NS, label_selector="suite=paging,parity notin (0)")
        self.assertEqual(len(not_in.items), 3)

    def test_watch_from_a_resource_version_with_bookmarks(self):
        start = self.core.list_namespaced_config_map(NS, label_selector="suite=watch")
        rv = start.metadata.resource_version
        self.configmap("watched-1", labels={"suite": "watch"})
        self.configmap("watched-2", labels={"suite": "watch"})
        seen = []
        w = watch.Watch()
        # Bookmarks come every 500 ms (BOOKMARK_MS); the client must not choke on them.
        for event in w.stream(self.core.list_namespaced_config_map, NS,
                              label_selector="suite=watch", resource_version=rv,
                              allow_watch_bookmarks=True, timeout_seconds=3):
            if event["type"] == "ADDED":
                seen.append(event["object"].metadata.name)
            if len(seen) == 2:
                w.stop()
        self.assertEqual(seen, ["watched-1", "watched-2"])
        # The raw stream shows the bookmarks themselves.
        resp = self.core.list_namespaced_config_map(
            NS, watch=True, allow_watch_bookmarks=True, resource_version=rv, timeout_seconds=2,
            _preload_content=False)
        types = [line.split(b'"type":"')[1].split(b'"')[0] for line in resp if line.strip()]
        self.assertIn(b"BOOKMARK", types)
        self.assertEqual(types.count(b"ADDED"), 2)

    def test_replace_with_optimistic_concurrency(self):
        cm = self.configmap("occ")
        cm.data = {"k": "first"}
        updated = self.core.replace_namespaced_config_map("occ", NS, cm)
        self.assertNotEqual(updated.metadata.resource_version, cm.metadata.resource_version)
        cm.data = {"k": "stale"}  # still carries the old resourceVersion
        with self.assertRaises(ApiException) as ctx:
            self.core.replace_namespaced_config_map("occ", NS, cm)
        self.assertEqual(ctx.exception.status, 409)
        self.assertEqual(self.core.read_namespaced_config_map("occ", NS).data, {"k": "first"})

    def test_patches(self):
        self.configmap("patched", data={"a": "1", "b": "2"})
        # A dict is sent as a strategic merge patch.
        self.core.patch_namespaced_config_map("patched", NS, {"data": {"b": "3", "c": "4"}})
        # A list is sent as a JSON patch.
        self.core.patch_namespaced_config_map(
            "patched", NS, [{"op": "remove", "path": "/data/a"},
                            {"op": "add", "path": "/metadata/labels", "value": {"x": "y"}}])
        got = self.core.read_namespaced_config_map("patched", NS)
        self.assertEqual(got.data, {"b": "3", "c": "4"})
        self.assertEqual(got.metadata.labels, {"x": "y"})
        with self.assertRaises(ApiException) as ctx:  # a failed test operation
            self.core.patch_namespaced_config_map(
                "patched", NS, [{"op": "test", "path": "/data/b", "value": "nope"},
                                {"op": "remove", "path": "/data/b"}])
        self.assertEqual(ctx.exception.status, 422)

    def test_status_subresource_and_finalizers(self):
        body = {"apiVersion": GROUP + "/" + VERSION, "kind": "Widget",
                "metadata": {"name": "py-widget", "finalizers": ["test.cte.netskope.io/hold"]},
                "spec": {"size": 1}}
        created = self.custom.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, body)
        self.assertEqual(created["metadata"]["generation"], 1)
        # Status goes through /status only, and does not bump the generation.
        self.custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, NS, PLURAL, "py-widget",
            {"status": {"observedGeneration": 1, "phase": "Ready"}})
        got = self.custom.get_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "py-widget")
        self.assertEqual(got["status"]["phase"], "Ready")
        self.assertEqual(got["metadata"]["generation"], 1)
        got["status"]["phase"] = "Replaced"
        self.custom.replace_namespaced_custom_object_status(
            GROUP, VERSION, NS, PLURAL, "py-widget", got)
        # A spec write ignores status and bumps the generation.
        got = self.custom.get_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "py-widget")
        got["spec"]["size"] = 2
        got["status"]["phase"] = "IgnoredOnSpecWrite"
        after = self.custom.replace_namespaced_custom_object(
            GROUP, VERSION, NS, PLURAL, "py-widget", got)
        self.assertEqual(after["metadata"]["generation"], 2)
        self.assertEqual(after["status"]["phase"], "Replaced")
        # Delete with a finalizer: the object stays, marked, until the finalizer goes.
        self.custom.delete_namespaced_custom_object(
            GROUP, VERSION, NS, PLURAL, "py-widget",
            body=client.V1DeleteOptions(propagation_policy="Background"))
        held = self.custom.get_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "py-widget")
        self.assertIn("deletionTimestamp", held["metadata"])
        # CustomObjectsApi sends every patch as a JSON merge patch; null removes the field.
        self.custom.patch_namespaced_custom_object(
            GROUP, VERSION, NS, PLURAL, "py-widget", {"metadata": {"finalizers": None}})

        def gone():
            try:
                self.custom.get_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "py-widget")
                return False
            except ApiException as e:
                return e.status == 404
        wait_for("the widget to go", gone)

    def test_leases(self):
        coord = client.CoordinationV1Api()
        now = datetime.datetime.now(datetime.timezone.utc)
        lease = client.V1Lease(
            metadata=client.V1ObjectMeta(name="py-lease"),
            spec=client.V1LeaseSpec(holder_identity="py-1", lease_duration_seconds=15,
                                    acquire_time=now, renew_time=now, lease_transitions=0))
        created = coord.create_namespaced_lease(NS, lease)
        self.assertEqual(created.spec.holder_identity, "py-1")
        self.assertEqual(created.spec.renew_time.microsecond, now.microsecond)
        # Python writes "+00:00"; the server stores the MicroTime in its own spelling.
        raw = json.loads(coord.read_namespaced_lease("py-lease", NS, _preload_content=False).data)
        self.assertEqual(raw["spec"]["renewTime"], now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        created.spec.holder_identity = "py-2"
        created.spec.lease_transitions = 1
        moved = coord.replace_namespaced_lease("py-lease", NS, created)
        self.assertEqual(moved.spec.holder_identity, "py-2")
        created.spec.holder_identity = "py-3"  # stale resourceVersion: the lease is not stolen
        with self.assertRaises(ApiException) as ctx:
            coord.replace_namespaced_lease("py-lease", NS, created)
        self.assertEqual(ctx.exception.status, 409)
        leases = coord.list_namespaced_lease(NS)
        self.assertIn("py-lease", [l.metadata.name for l in leases.items])

    def test_events(self):
        events = client.EventsV1Api()
        now = datetime.datetime.now(datetime.timezone.utc)
        ev = client.EventsV1Event(
            metadata=client.V1ObjectMeta(generate_name="py-widget."),
            event_time=now, reporting_controller="test.cte.netskope.io/py",
            reporting_instance="py-0", action="Reconcile", reason="Reconciled", type="Normal",
            note="done",
            regarding=client.V1ObjectReference(kind="Widget", name="py-widget", namespace=NS))
        created = events.create_namespaced_event(NS, ev)
        self.assertTrue(created.metadata.name.startswith("py-widget."))
        self.assertEqual(created.event_time.microsecond, now.microsecond)
        listed = events.list_namespaced_event(NS, field_selector="metadata.name=" +
                                              created.metadata.name)
        self.assertEqual([e.reason for e in listed.items], ["Reconciled"])
        core_ev = client.CoreV1Event(
            metadata=client.V1ObjectMeta(name="py-core-event"),
            involved_object=client.V1ObjectReference(kind="Widget", name="py-widget",
                                                     namespace=NS),
            reason="Tested", message="core event", type="Warning", first_timestamp=now,
            last_timestamp=now, count=1)
        self.core.create_namespaced_event(NS, core_ev)
        self.assertEqual(self.core.read_namespaced_event("py-core-event", NS).count, 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
