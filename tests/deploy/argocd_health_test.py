"""The Argo CD health check (charts/cte-operator/files/argocd-health.lua) on sample objects in
every state, run with lua5.1 the way Argo CD runs a custom check: `obj` as a global, only the
base, table and (safe) os libraries, no string library and no string methods, and the script's
return value taken as {status, message}. Also checks that the chart and docs/gitops.md ship the
same script.
"""

import os
import re
import subprocess
import tempfile
import unittest

import yaml

from deploy_lib import CHART, SRC, ci_values, find, render_objects

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "argocd")
SCRIPT = os.path.join(CHART, "files", "argocd-health.lua")

# Argo CD (util/lua/lua.go) opens package, base, table and a safe os library for custom checks;
# the string library stays closed unless useOpenLibs is set. This sandbox gives the script the
# same globals and removes string methods, so a check that passes here runs in Argo CD.
HARNESS = r"""
local source = assert(io.open(arg[1])):read("*a")
local obj = dofile(arg[2])
local chunk = assert(loadstring(source, "=health.lua"))
local env = {
  obj = obj,
  assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs, pcall = pcall,
  rawequal = rawequal, rawget = rawget, rawset = rawset, select = select,
  setmetatable = setmetatable, getmetatable = getmetatable, tonumber = tonumber,
  tostring = tostring, type = type, unpack = unpack, xpcall = xpcall,
  table = table,
  os = { time = os.time, date = os.date, clock = os.clock, difftime = os.difftime },
}
setfenv(chunk, env)
getmetatable("").__index = nil
local ok, result = pcall(chunk)
getmetatable("").__index = string
if not ok then
  io.stderr:write("health.lua failed: " .. tostring(result) .. "\n")
  os.exit(2)
end
if type(result) ~= "table" then
  io.stderr:write("health.lua returned " .. type(result) .. ", Argo CD needs a table\n")
  os.exit(3)
end
io.write(tostring(result.status), "\n", tostring(result.message), "\n")
"""


def lua_literal(value):
    """A Python value from YAML as a Lua table constructor (JSON-like, as Argo CD decodes it)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return '"' + escaped + '"'
    if isinstance(value, list):
        return "{" + ", ".join(lua_literal(v) for v in value) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join("[%s] = %s" % (lua_literal(str(k)), lua_literal(v))
                               for k, v in value.items()) + "}"
    raise TypeError("cannot express %r in Lua" % (value,))


def health(script_path, obj):
    with tempfile.TemporaryDirectory() as tmp:
        harness = os.path.join(tmp, "harness.lua")
        data = os.path.join(tmp, "obj.lua")
        with open(harness, "w") as f:
            f.write(HARNESS)
        with open(data, "w") as f:
            f.write("return " + lua_literal(obj) + "\n")
        proc = subprocess.run(["lua5.1", harness, script_path, data], capture_output=True, text=True)
        if proc.returncode != 0:
            raise AssertionError(proc.stderr)
        status, message = proc.stdout.rstrip("\n").split("\n", 1)
        return status, message


class ArgoCDHealthTest(unittest.TestCase):
    def test_each_sample_object_gets_the_expected_health(self):
        with open(os.path.join(HERE, "health_test.yaml")) as f:
            cases = yaml.safe_load(f)["tests"]
        self.assertGreaterEqual(len(cases), 10)
        seen = set()
        for case in cases:
            with open(os.path.join(HERE, case["inputPath"])) as f:
                obj = yaml.safe_load(f)
            seen.add((obj["kind"], case["healthStatus"]["status"]))
            want = (case["healthStatus"]["status"], case["healthStatus"]["message"])
            self.assertEqual(health(SCRIPT, obj), want, case["inputPath"])
        # Every kind is covered, and every state the issue names.
        self.assertEqual({k for k, _ in seen},
                         {"NetskopeTenant", "CTEPlugin", "BusinessRule", "SharingConfiguration"})
        self.assertEqual({s for _, s in seen}, {"Healthy", "Progressing", "Degraded", "Suspended"})

    def test_sandbox_rejects_the_string_library_like_argo_cd(self):
        # The harness must fail a check that Argo CD would fail, or the test above proves nothing.
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write('return { status = "Healthy", message = string.upper("x") }\n')
        with self.assertRaisesRegex(AssertionError, "attempt to index global 'string'"):
            health(f.name, {"metadata": {}})
        with open(f.name, "w") as g:
            g.write('local s = "abc"\nreturn { status = "Healthy", message = s:sub(1, 1) }\n')
        with self.assertRaisesRegex(AssertionError, "attempt to index local 's'"):
            health(f.name, {"metadata": {}})
        os.unlink(f.name)

    def test_chart_configmap_carries_the_script_for_each_kind(self):
        with open(SCRIPT) as f:
            script = f.read()
        objs = render_objects("--set", "argocd.healthChecks.enabled=true")
        cm = find(objs, "ConfigMap", "cte-operator-argocd-health")
        for kind in ("NetskopeTenant", "CTEPlugin", "BusinessRule", "SharingConfiguration"):
            self.assertEqual(cm["data"]["resource.customizations.health.cte.netskope.io_" + kind], script)
        self.assertNotIn("ConfigMap", [o["kind"] for o in render_objects()])

    def test_docs_show_the_same_script(self):
        with open(SCRIPT) as f:
            script = f.read()
        with open(os.path.join(SRC, "docs", "gitops.md")) as f:
            blocks = re.findall(r"```lua\n(.*?)```", f.read(), re.S)
        self.assertEqual(blocks, [script], "docs/gitops.md must embed files/argocd-health.lua verbatim")


if __name__ == "__main__":
    unittest.main(verbosity=2)
