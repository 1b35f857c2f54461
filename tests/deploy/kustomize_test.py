"""The kustomize base (config/): generated from the chart, built by kubectl's own kustomize,
equal to the chart rendered with the values each directory names, and applied with
`kubectl apply -k` to the local API server.

Run by kustomize_test.sh, which starts the local API server and sets KUBECONFIG and WORK.
"""

import filecmp
import os
import unittest

from deploy_lib import (CHART, RENDER, SRC, by_key, check_fields, container, dump, find, kubectl,
                        objects, render_objects, run, scratch_dir)

CONFIG = os.path.join(SRC, "config")


def kustomize(path):
    return objects(kubectl("kustomize", os.path.join(CONFIG, path))[1])


def chart(values_dir):
    """The chart with the values a config/ directory declares in its chart-values.yaml, rendered
    as the kustomize base is (release cte-operator in cte-system, managed-by kustomize)."""
    return render_objects("--include-crds", "--release-service", "kustomize",
                          "-f", os.path.join(CONFIG, values_dir, "chart-values.yaml"))


class KustomizeTest(unittest.TestCase):
    maxDiff = None

    def assertSameObjects(self, got, want):
        got, want = by_key(got), by_key(want)
        self.assertEqual(sorted(got), sorted(want))
        for k in want:
            self.assertEqual(dump(got[k]), dump(want[k]), "object %s differs" % (k,))

    def test_generated_files_match_the_chart(self):
        out = scratch_dir()
        run([os.path.join(SRC, "hack", "gen-kustomize.sh"), out],
            env=dict(os.environ, RENDER_CHART=RENDER))
        generated = []
        for root, _, files in os.walk(out):
            for f in files:
                generated.append(os.path.relpath(os.path.join(root, f), out))
        self.assertGreater(len(generated), 8)
        for rel in sorted(generated):
            self.assertTrue(filecmp.cmp(os.path.join(out, rel), os.path.join(CONFIG, rel), shallow=False),
                            "config/%s is out of date: run hack/gen-kustomize.sh" % rel)

    def test_crds_are_the_repository_crds(self):
        for name in os.listdir(os.path.join(SRC, "crds")):
            self.assertTrue(filecmp.cmp(os.path.join(SRC, "crds", name), os.path.join(CONFIG, "crd", name),
                                        shallow=False), name)

    def test_base_equals_the_chart(self):
        self.assertSameObjects(kustomize("base"), chart("base"))

    def test_sqlite_overlay_equals_the_chart_with_a_claim(self):
        got = kustomize("overlays/sqlite-pvc")
        self.assertSameObjects(got, chart("overlays/sqlite-pvc"))
        volumes = find(got, "Deployment")["spec"]["template"]["spec"]["volumes"]
        self.assertEqual(volumes[0], {"name": "data", "persistentVolumeClaim": {"claimName": "cte-operator-data"}})

    def test_external_store_overlay_equals_the_chart_ha_layout(self):
        got = kustomize("overlays/external-store")
        self.assertSameObjects(got, chart("overlays/external-store"))
        deploy = find(got, "Deployment")
        self.assertEqual(deploy["spec"]["replicas"], 2)
        self.assertIn("--store=$(CTE_STORE_URL)", container(deploy)["args"])

    def test_default_is_the_sqlite_overlay_in_its_own_namespace(self):
        got = kustomize("default")
        ns = find(got, "Namespace", "cte-system")
        self.assertEqual(ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"], "restricted")
        self.assertSameObjects([o for o in got if o["kind"] != "Namespace"], chart("overlays/sqlite-pvc"))

    def test_every_built_in_object_uses_real_kubernetes_fields(self):
        for path in ("base", "default", "overlays/sqlite-pvc", "overlays/external-store"):
            for obj in kustomize(path):
                self.assertEqual(check_fields(obj), [], path)

    def test_apply_k_installs_the_operator_and_an_overlay_switches_it(self):
        _, out, _ = kubectl("apply", "-k", os.path.join(CONFIG, "default"))
        self.assertIn("namespace/cte-system created", out)
        self.assertIn("customresourcedefinition.apiextensions.k8s.io/sharingconfigurations.cte.netskope.io created", out)
        self.assertIn("deployment.apps/cte-operator created", out)
        self.assertIn("persistentvolumeclaim/cte-operator-data created", out)
        _, out, _ = kubectl("apply", "-k", os.path.join(CONFIG, "default"))
        self.assertNotIn("created", out)
        self.assertNotIn("configured", out)
        # The example custom resources are accepted next to the operator.
        kubectl("apply", "-n", "cte-system", "-f", os.path.join(SRC, "examples"))
        _, out, _ = kubectl("get", "cte", "-n", "cte-system", "-o", "name")
        self.assertIn("sharingconfiguration.cte.netskope.io/apisource-to-urllist", out)

        kubectl("apply", "-k", os.path.join(CONFIG, "overlays", "external-store"))
        _, out, _ = kubectl("get", "deployment", "cte-operator", "-n", "cte-system",
                            "-o", "jsonpath={.spec.replicas} {.spec.strategy.type}")
        self.assertEqual(out, "2 RollingUpdate")
        _, out, _ = kubectl("get", "poddisruptionbudget", "cte-operator", "-n", "cte-system",
                            "-o", "jsonpath={.spec.minAvailable}")
        self.assertEqual(out, "1")


if __name__ == "__main__":
    unittest.main(verbosity=2)
