"""The Grafana dashboard (charts/cte-operator/files/grafana-dashboard.json): a well-formed
dashboard whose every query is valid PromQL (checked by promtool, with Grafana's variables
replaced), uses only metrics the documentation defines, and covers what operators need to see.
"""

import json
import os
import re
import unittest

import yaml

from deploy_lib import CHART, SRC, find, render_objects, run, scratch_dir

DASHBOARD = os.path.join(CHART, "files", "grafana-dashboard.json")
METRIC = re.compile(r"\b((?:controller_runtime|workqueue|leader_election|process|rest_client|cte)_[a-z0-9_]+)\b")
# Grafana substitutes these before the query reaches Prometheus.
VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$job": ".*", "$tenant": ".*"}


def load():
    with open(DASHBOARD) as f:
        return json.load(f)


def panels(dash):
    for p in dash["panels"]:
        if p["type"] != "row":
            yield p


def expressions(dash):
    for p in panels(dash):
        for t in p["targets"]:
            yield p["title"], t["expr"]


def documented_metrics():
    names = set()
    for doc in ("metrics.md", "operations.md"):
        with open(os.path.join(SRC, "docs", doc)) as f:
            names |= set(re.findall(r"`((?:controller_runtime|workqueue|leader_election|process|rest_client|cte)_[a-z0-9_]+)", f.read()))
    return names


class GrafanaDashboardTest(unittest.TestCase):
    def test_dashboard_is_well_formed(self):
        dash = load()
        self.assertEqual(dash["uid"], "cte-operator")
        ids = [p["id"] for p in dash["panels"]]
        self.assertEqual(len(ids), len(set(ids)), "panel ids must be unique")
        for p in dash["panels"]:
            g = p["gridPos"]
            self.assertLessEqual(g["x"] + g["w"], 24, p["title"])
        for p in panels(dash):
            self.assertTrue(p["targets"], p["title"])
            self.assertTrue(p.get("description"), p["title"])
            refs = [t["refId"] for t in p["targets"]]
            self.assertEqual(len(refs), len(set(refs)), p["title"])
        names = [v["name"] for v in dash["templating"]["list"]]
        self.assertEqual(names, ["datasource", "job", "tenant"])

    def test_every_query_is_valid_promql(self):
        # promtool parses every expression of a rules file: one recording rule per query.
        rules = []
        for i, (title, expr) in enumerate(expressions(load())):
            for var, value in VARIABLES.items():
                expr = expr.replace(var, value)
            self.assertNotIn("$", expr, title)
            rules.append({"record": "dashboard:query_%d" % i, "expr": expr})
        path = os.path.join(scratch_dir(), "dashboard-rules.yaml")
        with open(path, "w") as f:
            yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, f)
        _, out, _ = run(["promtool", "check", "rules", path])
        self.assertIn("SUCCESS: %d rules found" % len(rules), out)

    def test_queries_use_only_documented_metrics_and_the_job_variable(self):
        documented = documented_metrics()
        for title, expr in expressions(load()):
            for name in METRIC.findall(expr):
                base = re.sub(r"_(bucket|sum|count)$", "", name)
                self.assertIn(base, documented, "%s: %s is in neither docs/metrics.md nor docs/operations.md"
                              % (title, name))
            for selector in re.findall(r"\{([^}]*)\}", expr):
                self.assertIn('job=~"$job"', selector, title)

    def test_covers_what_the_issue_asks_for(self):
        used = set()
        for _, expr in expressions(load()):
            used |= set(METRIC.findall(expr))
        for name in ("controller_runtime_reconcile_total", "controller_runtime_reconcile_errors_total",
                     "workqueue_depth", "cte_tenant_api_requests_total", "cte_tenant_api_throttled_total",
                     "cte_list_entries", "cte_list_bytes", "cte_list_truncated_entries", "cte_indicators"):
            self.assertIn(name, used)

    def test_chart_ships_the_file_in_a_sidecar_configmap(self):
        objs = render_objects("--set", "grafana.dashboard.enabled=true", "--set", "grafana.dashboard.namespace=monitoring")
        cm = find(objs, "ConfigMap", "cte-operator-dashboard")
        self.assertEqual(cm["metadata"]["namespace"], "monitoring")
        self.assertEqual(cm["metadata"]["labels"]["grafana_dashboard"], "1")
        with open(DASHBOARD) as f:
            self.assertEqual(cm["data"]["cte-operator.json"], f.read())


if __name__ == "__main__":
    unittest.main(verbosity=2)
