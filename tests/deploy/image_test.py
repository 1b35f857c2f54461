"""The container image (Dockerfile): no Docker engine runs here, so this checks what can be
checked without one. hack/runtime-packages.sh, which picks the runtime stage's packages, must
cover every shared library of the real cte-operator binary; the Dockerfile must build with
hack/build.sh, ship only the binary and those packages, and agree with the chart on the user and
the ports.
"""

import os
import re
import subprocess
import unittest

import yaml

from deploy_lib import BIN, CHART, SRC, run

DOCKERFILE = os.path.join(SRC, "Dockerfile")


def stages():
    with open(DOCKERFILE) as f:
        text = re.sub(r"\\\n", " ", f.read())
    lines = [l.strip() for l in text.splitlines() if l.strip() and not l.strip().startswith("#")]
    out = []
    for line in lines:
        if line.startswith("FROM "):
            out.append([])
        out[-1].append(line)
    return out


class ImageTest(unittest.TestCase):
    def test_runtime_packages_cover_every_shared_library(self):
        binary = os.path.join(BIN, "cte-operator")
        _, out, _ = run([os.path.join(SRC, "hack", "runtime-packages.sh"), binary])
        packages = out.split()
        self.assertIn("libc6", packages)
        _, ldd, _ = run(["ldd", binary])
        libs = re.findall(r"=> (/\S+)", ldd)
        self.assertTrue(libs)
        for lib in libs:
            real = os.path.realpath(lib)
            owners = set()
            for candidate in {lib, real, "/usr" + lib, "/usr" + real}:
                proc = subprocess.run(["dpkg-query", "-S", candidate], capture_output=True, text=True)
                if proc.returncode == 0:
                    owners.add(proc.stdout.split(":")[0])
            self.assertTrue(owners & set(packages), "%s is provided by none of %s" % (lib, packages))
        for p in packages:
            run(["dpkg-query", "-W", p])

    def test_runtime_packages_refuses_what_it_cannot_place(self):
        code, _, err = run([os.path.join(SRC, "hack", "runtime-packages.sh"), "/nonexistent"], check=False)
        self.assertNotEqual(code, 0)
        self.assertIn("/nonexistent is not an executable", err)

    def test_build_stage_uses_the_repository_scripts(self):
        build, runtime = stages()
        self.assertEqual(build[0], "FROM debian:bookworm-slim AS build")
        joined = "\n".join(build)
        self.assertIn("./hack/setup-deps.sh", joined)
        self.assertIn("./hack/build.sh release cte-operator", joined)
        self.assertIn("./hack/runtime-packages.sh build-release/bin/cte-operator", joined)

    def test_runtime_stage_ships_only_the_binary_and_runs_as_the_charts_user(self):
        _, runtime = stages()
        self.assertEqual(runtime[0], "FROM debian:bookworm-slim")
        copies = [l for l in runtime if l.startswith("COPY")]
        self.assertEqual(copies, [
            "COPY --from=build /out/runtime-packages.txt /tmp/runtime-packages.txt",
            "COPY --from=build /out/cte-operator /usr/local/bin/cte-operator"])
        self.assertIn('ENTRYPOINT ["/usr/local/bin/cte-operator"]', runtime)
        with open(os.path.join(CHART, "values.yaml")) as f:
            values = yaml.safe_load(f)
        uid = values["podSecurityContext"]["runAsUser"]
        self.assertIn("USER %d:%d" % (uid, uid), runtime)
        expose = [l for l in runtime if l.startswith("EXPOSE")][0].split()[1:]
        self.assertEqual([int(p) for p in expose],
                         [values["metrics"]["port"], values["healthProbe"]["port"], values["ingest"]["port"]])

    def test_build_context_leaves_out_host_build_trees(self):
        with open(os.path.join(SRC, ".dockerignore")) as f:
            ignored = f.read().split()
        for entry in ("build/", "build-*/", ".git"):
            self.assertIn(entry, ignored)


if __name__ == "__main__":
    unittest.main(verbosity=2)
