"""The CRDs ship three ways and must be the same bytes everywhere: crds/ (kubectl apply -f),
the chart's crds/ (Helm installs them before the templates) and config/crd/ (the kustomize
base). Each is annotated for Argo CD's server-side apply.
"""

import filecmp
import os
import unittest

import yaml

from deploy_lib import CHART, SRC

CRDS = os.path.join(SRC, "crds")


class CrdCopiesTest(unittest.TestCase):
    def test_chart_and_kustomize_copies_are_identical(self):
        names = sorted(os.listdir(CRDS))
        self.assertEqual(len(names), 4)
        for copy in (os.path.join(CHART, "crds"), os.path.join(SRC, "config", "crd")):
            self.assertEqual(sorted(n for n in os.listdir(copy) if n != "kustomization.yaml"), names, copy)
            for name in names:
                self.assertTrue(filecmp.cmp(os.path.join(CRDS, name), os.path.join(copy, name), shallow=False),
                                "%s differs from crds/%s: copy it (hack/gen-kustomize.sh does both)"
                                % (os.path.join(copy, name), name))

    def test_every_crd_asks_argo_cd_for_server_side_apply(self):
        for name in os.listdir(CRDS):
            with open(os.path.join(CRDS, name)) as f:
                crd = [d for d in yaml.safe_load_all(f) if d][0]
            self.assertEqual(crd["metadata"]["annotations"]["argocd.argoproj.io/sync-options"],
                             "ServerSideApply=true", name)


if __name__ == "__main__":
    unittest.main(verbosity=2)
