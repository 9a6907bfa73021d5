"""One version (issue #18 item 3): the package, setup.py, the README and CHANGELOG.md agree."""
import os
import re
import subprocess
import sys

from conftest import ROOT


def test_package_setup_readme_and_changelog_state_one_version():
    import segssl
    v = segssl.__version__
    assert re.fullmatch(r'\d+\.\d+\.\d+', v)
    out = subprocess.run([sys.executable, 'setup.py', '--version'], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip().splitlines()[-1] == v
    readme = open(os.path.join(ROOT, 'README.md')).read()
    assert f'Version {v} (`segssl.__version__`)' in readme
    changelog = open(os.path.join(ROOT, 'CHANGELOG.md')).read()
    assert re.findall(r'^## (\d+\.\d+\.\d+)', changelog, re.M)[0] == v
