"""The chart's PrometheusRule: its expressions pass `promtool check rules`, and `promtool test rules`
(tests/deploy/prometheus/alerts_test.yaml) shows each alert firing on a bad series and staying
quiet on a good one. Values change thresholds, severities, scoping and which alerts exist.
"""

import os
import shutil
import unittest

import yaml

from deploy_lib import find, render_objects, run, scratch_dir

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "prometheus")
ALERTS = ["CteSyncFailing", "CteListTruncated", "CteTenantAuthFailing", "CteWatchStale",
          "CteReconcileErrors"]


def rendered_rules(*args, **kw):
    objs = render_objects("--set", "metrics.prometheusRule.enabled=true", *args, **kw)
    return find(objs, "PrometheusRule")["spec"]


def write_rules(spec, directory):
    path = os.path.join(directory, "rules.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(spec, f, sort_keys=False)
    return path


class PrometheusRulesTest(unittest.TestCase):
    def test_rules_pass_promtool_check(self):
        path = write_rules(rendered_rules(), scratch_dir())
        _, out, _ = run(["promtool", "check", "rules", path])
        self.assertIn("SUCCESS: %d rules found" % len(ALERTS), out)

    def test_each_alert_fires_on_bad_series_and_stays_quiet_on_good_ones(self):
        directory = scratch_dir()
        write_rules(rendered_rules(), directory)
        shutil.copy(os.path.join(HERE, "alerts_test.yaml"), directory)
        with open(os.path.join(HERE, "alerts_test.yaml")) as f:
            tested = {t["alertname"] for case in yaml.safe_load(f)["tests"] for t in case["alert_rule_test"]}
        self.assertEqual(tested, set(ALERTS), "every alert needs a unit test")
        code, out, err = run(["promtool", "test", "rules", os.path.join(directory, "alerts_test.yaml")],
                             check=False)
        self.assertEqual(code, 0, out + err)
        self.assertIn("SUCCESS", out)

    def test_unit_tests_can_fail(self):
        # The same tests against rules that never fire must fail, or they prove nothing.
        spec = rendered_rules()
        for rule in spec["groups"][0]["rules"]:
            rule["expr"] = "vector(1) < 0"
        directory = scratch_dir()
        write_rules(spec, directory)
        shutil.copy(os.path.join(HERE, "alerts_test.yaml"), directory)
        code, out, err = run(["promtool", "test", "rules", os.path.join(directory, "alerts_test.yaml")],
                             check=False)
        self.assertNotEqual(code, 0)
        self.assertIn("FAILED", out + err)

    def test_values_tune_and_drop_alerts(self):
        values = os.path.join(scratch_dir(), "values.yaml")
        with open(values, "w") as f:
            # A fraction comes from a values file: --set keeps 0.25 a string, as Helm's does.
            f.write("metrics:\n  prometheusRule:\n    alerts:\n      CteReconcileErrors:\n        ratio: 0.25\n")
        spec = rendered_rules("-f", values,
                              "--set", "metrics.prometheusRule.alerts.CteListTruncated.enabled=false",
                              "--set", "metrics.prometheusRule.alerts.CteWatchStale.for=3m",
                              "--set", "metrics.prometheusRule.alerts.CteWatchStale.severity=critical",
                              "--set-string", 'metrics.prometheusRule.seriesSelector=service="cte"\\,env="prod"')
        rules = {r["alert"]: r for r in spec["groups"][0]["rules"]}
        self.assertNotIn("CteListTruncated", rules)
        self.assertEqual(rules["CteWatchStale"]["for"], "3m")
        self.assertEqual(rules["CteWatchStale"]["labels"]["severity"], "critical")
        self.assertTrue(rules["CteReconcileErrors"]["expr"].endswith("> 0.25"))
        for rule in rules.values():
            self.assertIn('{service="cte",env="prod"', rule["expr"])
            self.assertNotIn("job=", rule["expr"])
        path = write_rules(spec, scratch_dir())
        run(["promtool", "check", "rules", path])

    def test_every_expression_is_scoped_to_this_release(self):
        spec = rendered_rules(release="blue")
        for rule in spec["groups"][0]["rules"]:
            metric_selectors = rule["expr"].count("{")
            self.assertEqual(rule["expr"].count('job="blue-cte-operator-metrics"'), metric_selectors, rule["alert"])

    def test_no_rule_without_prometheus_rule_enabled(self):
        self.assertNotIn("PrometheusRule", [o["kind"] for o in render_objects()])
        objs = render_objects("--set", "metrics.prometheusRule.enabled=true", "--set", "metrics.enabled=false")
        self.assertNotIn("PrometheusRule", [o["kind"] for o in objs])


if __name__ == "__main__":
    unittest.main(verbosity=2)
