"""The Helm chart (charts/cte-operator), rendered by hack/render-chart with default and
non-default values: what a platform team gets, what it is refused, and that every rendering
applies to the local API server with kubectl.

Run by chart_test.sh, which starts the local API server and sets KUBECONFIG and WORK.
"""

import json
import os
import unittest

from deploy_lib import (CHART, NAMESPACE, b64, check_fields, ci_values, container, find, kinds,
                        kubectl, make_tls_pair, objects, render, render_error, render_objects,
                        scratch_dir)

# What the reconcilers do to the API, and nothing more (docs/operations.md, "RBAC").
KINDS = ["netskopetenants", "cteplugins", "businessrules", "sharingconfigurations"]
MANAGER_RULES = [
    {"apiGroups": ["cte.netskope.io"], "resources": KINDS,
     "verbs": ["get", "list", "watch", "update", "patch"]},
    {"apiGroups": ["cte.netskope.io"], "resources": [k + "/status" for k in KINDS],
     "verbs": ["get", "update", "patch"]},
    {"apiGroups": ["cte.netskope.io"], "resources": [k + "/finalizers" for k in KINDS],
     "verbs": ["update"]},
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
]
LEADER_RULES = [
    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
    {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
]


def tls_args():
    cert, key = make_tls_pair(scratch_dir())
    return ["--set-file", "ingest.tls.cert=" + cert, "--set-file", "ingest.tls.key=" + key]


# Every values layout the tests render: (name, release, namespace, extra render args).
def layouts():
    return [
        ("default", "cte-operator", "cte-system", []),
        ("ha", "cte-ha", "cte-ha", ["-f", ci_values("ha")]),
        ("namespaced", "team-a-cte", "team-a", ["-f", ci_values("namespaced")]),
        ("all-features", "cte-all", "cte-all", ["-f", ci_values("all-features")] + tls_args()),
    ]


class DefaultValuesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.objs = render_objects()
        cls.deploy = find(cls.objs, "Deployment", "cte-operator")
        cls.pod = cls.deploy["spec"]["template"]["spec"]
        cls.manager = container(cls.deploy)

    def test_renders_the_operator_and_nothing_optional(self):
        self.assertEqual(kinds(self.objs), [
            "ClusterRole/cte-operator-manager", "ClusterRoleBinding/cte-operator-manager",
            "Deployment/cte-operator", "PersistentVolumeClaim/cte-operator-data",
            "Role/cte-operator-leader-election", "RoleBinding/cte-operator-leader-election",
            "Service/cte-operator-ingest", "Service/cte-operator-metrics",
            "ServiceAccount/cte-operator"])

    def test_one_replica_on_sqlite_with_a_claim_and_recreate_updates(self):
        self.assertEqual(self.deploy["spec"]["replicas"], 1)
        self.assertEqual(self.deploy["spec"]["strategy"], {"type": "Recreate"})
        self.assertIn("--store=sqlite:///data/indicators.db", self.manager["args"])
        pvc = find(self.objs, "PersistentVolumeClaim", "cte-operator-data")
        self.assertEqual(pvc["spec"]["accessModes"], ["ReadWriteOnce"])
        self.assertEqual(pvc["spec"]["resources"]["requests"]["storage"], "5Gi")
        self.assertEqual(pvc["metadata"]["annotations"]["helm.sh/resource-policy"], "keep")
        volumes = {v["name"]: v for v in self.pod["volumes"]}
        self.assertEqual(volumes["data"]["persistentVolumeClaim"]["claimName"], "cte-operator-data")
        mounts = {m["name"]: m["mountPath"] for m in self.manager["volumeMounts"]}
        self.assertEqual(mounts["data"], "/data")

    def test_flags_use_the_operators_names_and_defaults(self):
        self.assertEqual(self.manager["args"], [
            "--metrics-bind-address=:8080", "--health-probe-bind-address=:8081", "--leader-elect",
            "--leader-election-id=cte-operator.cte.netskope.io",
            "--leader-election-namespace=cte-system", "--log-format=json", "--log-level=info",
            "--graceful-shutdown-timeout=25s", "--workers=2", "--reconcile-timeout=5m",
            "--sync-period=10h", "--watch-watchdog=90s", "--store=sqlite:///data/indicators.db",
            "--ingest-bind-address=:8443",
            "--ingest-tls-cert=/etc/cte-operator/ingest-tls/tls.crt",
            "--ingest-tls-key=/etc/cte-operator/ingest-tls/tls.key"])
        self.assertEqual(self.manager["image"], "cte-operator:0.1.0")

    def test_pod_meets_the_restricted_pod_security_standard(self):
        psc = self.pod["securityContext"]
        self.assertTrue(psc["runAsNonRoot"])
        self.assertEqual(psc["runAsUser"], 65532)
        self.assertEqual(psc["seccompProfile"], {"type": "RuntimeDefault"})
        sc = self.manager["securityContext"]
        self.assertFalse(sc["allowPrivilegeEscalation"])
        self.assertTrue(sc["readOnlyRootFilesystem"])
        self.assertEqual(sc["capabilities"], {"drop": ["ALL"]})
        for v in self.pod["volumes"]:
            self.assertNotIn("hostPath", v)
        # With a read-only root, everything the process writes is a volume.
        mounts = sorted(m["mountPath"] for m in self.manager["volumeMounts"] if not m.get("readOnly"))
        self.assertEqual(mounts, ["/data", "/tmp"])

    def test_probes_use_healthz_and_readyz_on_the_probe_port(self):
        ports = {p["name"]: p["containerPort"] for p in self.manager["ports"]}
        self.assertEqual(ports, {"metrics": 8080, "health": 8081, "ingest": 8443})
        self.assertEqual(self.manager["livenessProbe"]["httpGet"], {"path": "/healthz", "port": "health"})
        self.assertEqual(self.manager["readinessProbe"]["httpGet"], {"path": "/readyz", "port": "health"})

    def test_grace_period_outlasts_the_drain_budget(self):
        self.assertEqual(self.pod["terminationGracePeriodSeconds"], 35)  # 25 s drain + 10
        objs = render_objects("--set", "shutdown.drainSeconds=50")
        d = find(objs, "Deployment")
        self.assertEqual(d["spec"]["template"]["spec"]["terminationGracePeriodSeconds"], 60)
        self.assertIn("--graceful-shutdown-timeout=50s", container(d)["args"])

    def test_cluster_rbac_grants_exactly_what_the_reconcilers_need(self):
        self.assertEqual(find(self.objs, "ClusterRole")["rules"], MANAGER_RULES)
        leader = find(self.objs, "Role", "cte-operator-leader-election")
        self.assertEqual(leader["metadata"]["namespace"], NAMESPACE)
        self.assertEqual(leader["rules"], LEADER_RULES)
        for binding in (find(self.objs, "ClusterRoleBinding"), find(self.objs, "RoleBinding")):
            self.assertEqual(binding["subjects"], [
                {"kind": "ServiceAccount", "name": "cte-operator", "namespace": NAMESPACE}])
        self.assertEqual(self.pod["serviceAccountName"], "cte-operator")

    def test_services_reach_the_metrics_and_ingest_ports(self):
        metrics = find(self.objs, "Service", "cte-operator-metrics")
        ingest = find(self.objs, "Service", "cte-operator-ingest")
        self.assertEqual(metrics["spec"]["ports"], [
            {"name": "http-metrics", "port": 8080, "targetPort": "metrics", "protocol": "TCP"}])
        self.assertEqual(ingest["spec"]["ports"], [
            {"name": "https", "port": 443, "targetPort": "ingest", "protocol": "TCP"}])
        labels = self.deploy["spec"]["template"]["metadata"]["labels"]
        for svc in (metrics, ingest):
            for k, v in svc["spec"]["selector"].items():
                self.assertEqual(labels[k], v)

    def test_ingest_mounts_its_tls_secret_readable_by_the_operator_only(self):
        volumes = {v["name"]: v for v in self.pod["volumes"]}
        self.assertEqual(volumes["ingest-tls"]["secret"],
                         {"secretName": "cte-operator-ingest-tls", "defaultMode": 0o440})


class OtherLayoutsTest(unittest.TestCase):
    def test_ha_layout_runs_several_leader_elected_replicas_on_postgres(self):
        objs = render_objects("-f", ci_values("ha"))
        deploy = find(objs, "Deployment")
        manager = container(deploy)
        self.assertEqual(deploy["spec"]["replicas"], 2)
        self.assertEqual(deploy["spec"]["strategy"]["rollingUpdate"], {"maxSurge": 1, "maxUnavailable": 0})
        self.assertIn("--leader-elect", manager["args"])
        self.assertIn("--store=$(CTE_STORE_URL)", manager["args"])
        self.assertEqual(manager["env"], [{"name": "CTE_STORE_URL", "valueFrom": {
            "secretKeyRef": {"name": "cte-operator-store", "key": "url"}}}])
        self.assertNotIn("PersistentVolumeClaim", [o["kind"] for o in objs])
        self.assertNotIn("data", [v["name"] for v in deploy["spec"]["template"]["spec"]["volumes"]])
        pdb = find(objs, "PodDisruptionBudget")
        self.assertEqual(pdb["spec"]["minAvailable"], 1)
        self.assertEqual(pdb["spec"]["selector"]["matchLabels"], deploy["spec"]["selector"]["matchLabels"])

    def test_namespaced_rbac_watches_one_namespace_with_roles(self):
        objs = render_objects("-f", ci_values("namespaced"))
        self.assertNotIn("ClusterRole", [o["kind"] for o in objs])
        self.assertNotIn("ClusterRoleBinding", [o["kind"] for o in objs])
        role = find(objs, "Role", "cte-operator-manager")
        self.assertEqual(role["metadata"]["namespace"], "team-a")
        self.assertEqual(role["rules"], MANAGER_RULES)
        self.assertEqual(find(objs, "RoleBinding", "cte-operator-manager")["metadata"]["namespace"], "team-a")
        self.assertEqual(find(objs, "Role", "cte-operator-leader-election")["metadata"]["namespace"], NAMESPACE)
        deploy = find(objs, "Deployment")
        args = container(deploy)["args"]
        for flag in ("--namespace=team-a", "--metrics-bind-address=0", "--ingest-bind-address=0",
                     "--leader-election-id=team-a-shard", "--log-format=text", "--log-level=debug",
                     "--graceful-shutdown-timeout=40s"):
            self.assertIn(flag, args)
        self.assertEqual(deploy["spec"]["template"]["spec"]["terminationGracePeriodSeconds"], 60)
        # Without metrics and ingest: no Service, no port, no TLS volume.
        self.assertNotIn("Service", [o["kind"] for o in objs])
        self.assertEqual([p["name"] for p in container(deploy)["ports"]], ["health"])
        self.assertEqual(sorted(v["name"] for v in deploy["spec"]["template"]["spec"]["volumes"]), ["data", "tmp"])
        self.assertEqual(find(objs, "PersistentVolumeClaim")["spec"]["storageClassName"], "")

    def test_all_optional_objects_fit_the_deployment(self):
        cert_args = tls_args()
        objs = render_objects("-f", ci_values("all-features"), *cert_args)
        deploy = find(objs, "Deployment")
        port_names = {p["name"] for p in container(deploy)["ports"]}
        metrics_svc = find(objs, "Service", "cte-operator-metrics")

        sm = find(objs, "ServiceMonitor")
        self.assertEqual(sm["metadata"]["labels"]["release"], "kube-prometheus-stack")
        for k, v in sm["spec"]["selector"]["matchLabels"].items():
            self.assertEqual(metrics_svc["metadata"]["labels"][k], v)
        self.assertEqual(sm["spec"]["endpoints"][0]["port"], metrics_svc["spec"]["ports"][0]["name"])
        self.assertTrue(sm["spec"]["endpoints"][0]["honorLabels"])

        rule = find(objs, "PrometheusRule")
        alerts = [r["alert"] for r in rule["spec"]["groups"][0]["rules"]]
        self.assertEqual(alerts, ["CteSyncFailing", "CteListTruncated", "CteTenantAuthFailing",
                                  "CteWatchStale", "CteReconcileErrors"])
        for r in rule["spec"]["groups"][0]["rules"]:
            self.assertTrue(r["annotations"]["runbook_url"].endswith("#" + r["alert"].lower()))

        np = find(objs, "NetworkPolicy")
        self.assertEqual(np["spec"]["policyTypes"], ["Ingress", "Egress"])
        for rule_ in np["spec"]["ingress"]:
            for p in rule_["ports"]:
                self.assertIn(p["port"], port_names)
        self.assertEqual(np["spec"]["ingress"][2]["from"], [{"ipBlock": {"cidr": "10.0.0.0/8"}}])

        dashboard = find(objs, "ConfigMap", "cte-operator-dashboard")
        self.assertEqual(dashboard["metadata"]["labels"]["grafana_dashboard"], "1")
        self.assertEqual(json.loads(dashboard["data"]["cte-operator.json"])["uid"], "cte-operator")

        health = find(objs, "ConfigMap", "cte-operator-argocd-health")
        self.assertEqual(sorted(health["data"]), [
            "resource.customizations.health.cte.netskope.io_BusinessRule",
            "resource.customizations.health.cte.netskope.io_CTEPlugin",
            "resource.customizations.health.cte.netskope.io_NetskopeTenant",
            "resource.customizations.health.cte.netskope.io_SharingConfiguration"])

        secret = find(objs, "Secret", "cte-operator-ingest-tls")
        self.assertEqual(secret["type"], "kubernetes.io/tls")
        cert_file = cert_args[1].split("=", 1)[1]
        with open(cert_file) as f:
            self.assertEqual(b64(secret["data"]["tls.crt"]), f.read())
        self.assertIn("BEGIN PRIVATE KEY", b64(secret["data"]["tls.key"]))
        # The key reaches the pod only through the Secret volume.
        self.assertNotIn("PRIVATE KEY", json.dumps(deploy))

        ingest = find(objs, "Service", "cte-operator-ingest")
        self.assertEqual(ingest["spec"]["type"], "LoadBalancer")
        self.assertEqual(ingest["spec"]["loadBalancerSourceRanges"], ["10.0.0.0/8"])
        self.assertEqual(container(deploy)["args"][-1], "--log-level=debug")
        self.assertEqual(deploy["spec"]["template"]["metadata"]["annotations"]["example.com/owner"], "platform")

    def test_image_digest_replaces_the_tag(self):
        digest = "sha256:" + "ab" * 32
        d = find(render_objects("--set", "image.repository=registry.example.com/cte-operator",
                                "--set", "image.digest=" + digest), "Deployment")
        self.assertEqual(container(d)["image"], "registry.example.com/cte-operator@" + digest)

    def test_two_releases_in_one_namespace_never_share_names_or_a_lease(self):
        a = render_objects(release="shard-a")
        b = render_objects(release="shard-b")
        names_a = {(o["kind"], o["metadata"]["name"]) for o in a}
        names_b = {(o["kind"], o["metadata"]["name"]) for o in b}
        self.assertEqual(names_a & names_b, set())
        self.assertIn("--leader-election-id=shard-a-cte-operator.cte.netskope.io",
                      container(find(a, "Deployment"))["args"])

    def test_every_rendered_built_in_object_uses_real_kubernetes_fields(self):
        for name, release, namespace, args in layouts():
            for obj in render_objects(*args, release=release, namespace=namespace):
                self.assertEqual(check_fields(obj), [], "%s layout" % name)


class RefusedValuesTest(unittest.TestCase):
    """Bad input fails at render time (helm install/template) with the field and the reason."""

    def test_combinations_the_operator_cannot_run(self):
        cases = [
            (["--set", "replicaCount=2"],
             "replicaCount: 2 replicas need store.type=postgres"),
            (["-f", ci_values("ha"), "--set", "leaderElection.enabled=false"],
             "leaderElection.enabled: must be true with replicaCount 2"),
            (["--set", "store.type=postgres"],
             "store.postgres.urlSecret.name: name the Secret that holds the PostgreSQL URL"),
            (["--set", "shutdown.terminationGracePeriodSeconds=20"],
             "shutdown.terminationGracePeriodSeconds: 20 must be above shutdown.drainSeconds (25)"),
            (["--set", "ingest.tls.create=true"],
             "ingest.tls.cert, ingest.tls.key: both PEM values are required"),
            (["--set", "ingest.tls.create=true", "--set", "ingest.tls.cert=x", "--set", "ingest.tls.key=y"],
             "ingest.tls.cert: not a PEM certificate"),
            (["--set", "podDisruptionBudget.enabled=true,podDisruptionBudget.minAvailable=1,podDisruptionBudget.maxUnavailable=1"],
             "podDisruptionBudget: set minAvailable or maxUnavailable, not both"),
            (["--set", "podDisruptionBudget.enabled=true,podDisruptionBudget.minAvailable=1"],
             "podDisruptionBudget.minAvailable: 1 with replicaCount 1 would block every node drain"),
            (["--set", "serviceAccount.create=false"],
             "serviceAccount.name: set the name of an existing ServiceAccount"),
        ]
        for args, message in cases:
            err = render_error(*args)
            self.assertIn("execution error at (cte-operator/templates/", err, args)
            self.assertIn(message, err, args)

    def test_schema_names_unknown_keys_wrong_types_and_ranges(self):
        cases = [
            (["--set", "replicas=2"], "- (root): Additional property replicas is not allowed"),
            (["--set-string", "replicaCount=two"], "- replicaCount: Invalid type. Expected: integer, given: string"),
            (["--set", "logging.format=xml"], "- logging.format: logging.format must be one of the following"),
            (["--set", "controller.syncPeriod=10x"], "- controller.syncPeriod: Does not match pattern"),
            (["--set", "controller.workers=0"], "- controller.workers: Must be greater than or equal to 1"),
            (["--set", "store.type=mysql"], "- store.type: store.type must be one of the following"),
            (["--set", "metrics.prometheusRule.alerts.CteSyncFailing.severity=page"],
             "- metrics.prometheusRule.alerts.CteSyncFailing.severity: metrics.prometheusRule.alerts.CteSyncFailing.severity must be one of the following"),
            (["--set", "store.sqlite.path=indicators.db"], "- store.sqlite.path: Does not match pattern"),
        ]
        for args, message in cases:
            err = render_error(*args)
            self.assertIn("values don't meet the specifications of the schema(s)", err, args)
            self.assertIn(message, err, args)


class NotesTest(unittest.TestCase):
    def test_notes_say_how_to_finish_the_install(self):
        notes = render("--notes")
        self.assertIn("kubectl -n cte-system create secret tls cte-operator-ingest-tls", notes)
        self.assertIn("PersistentVolumeClaim cte-operator-data", notes)
        self.assertIn("kubectl get cte -A", notes)
        notes = render("--notes", "-f", ci_values("namespaced"))
        self.assertIn("It watches namespace team-a only.", notes)
        self.assertNotIn("create secret tls", notes)
        notes = render("--notes", "-f", ci_values("all-features"), *tls_args())
        self.assertIn("merge the data of ConfigMap cte-operator-argocd-health into argocd-cm", notes)
        self.assertNotIn("create secret tls", notes)
        self.assertNotIn("PRIVATE KEY", notes)


class ApplyTest(unittest.TestCase):
    """kubectl applies every rendering to the local API server, CRDs first (as Helm installs
    crds/ before templates), and reads the objects back."""

    @staticmethod
    def resource_versions(manifests):
        out = {}
        for obj in objects(manifests):
            get = ["get", obj["kind"], obj["metadata"]["name"], "-o", "jsonpath={.metadata.resourceVersion}"]
            if "namespace" in obj["metadata"]:
                get += ["-n", obj["metadata"]["namespace"]]
            out[(obj["kind"], obj["metadata"]["name"])] = kubectl(*get)[1]
        return out

    def test_every_layout_applies_and_reapplies_unchanged(self):
        # Server-side, as Argo CD applies them (the CRDs carry ServerSideApply=true).
        kubectl("apply", "--server-side", "--field-manager=argocd-controller", "-f", os.path.join(CHART, "crds"))
        for name, release, namespace, args in layouts():
            manifests = render(*args, release=release, namespace=namespace)
            namespaces = {namespace} | {o["metadata"].get("namespace") for o in objects(manifests)} - {None}
            for ns in sorted(namespaces):
                kubectl("create", "namespace", ns, check=False)
            _, out, _ = kubectl("apply", "-f", "-", stdin=manifests)
            created = [line for line in out.splitlines() if line.endswith(" created")]
            self.assertEqual(len(created), len(objects(manifests)), "%s layout:\n%s" % (name, out))
            for obj in objects(manifests):
                get = ["get", obj["kind"], obj["metadata"]["name"], "-o", "name"]
                if "namespace" in obj["metadata"]:
                    get += ["-n", obj["metadata"]["namespace"]]
                kubectl(*get)
            versions = self.resource_versions(manifests)
            _, out, _ = kubectl("apply", "-f", "-", stdin=manifests)
            self.assertNotIn("created", out, "%s layout, second apply" % name)
            # kubectl always sends a PodDisruptionBudget's selector (its patch strategy is
            # "replace"), so it reports "configured"; the object itself must not change.
            changed = [l for l in out.splitlines() if l.endswith(" configured")
                       and not l.startswith("poddisruptionbudget.policy/")]
            self.assertEqual(changed, [], "%s layout, second apply" % name)
            self.assertEqual(self.resource_versions(manifests), versions, "%s layout, second apply" % name)
            deploy = find(objects(manifests), "Deployment")
            _, got, _ = kubectl("get", "deployment", deploy["metadata"]["name"], "-n", namespace, "-o", "json")
            self.assertEqual(json.loads(got)["spec"]["template"]["spec"]["containers"][0]["args"],
                             container(deploy)["args"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
