"""docs/RESULTS.md stays runnable: every config and tool its commands name exists (brace patterns
such as {ssl,scratch} expanded), every tool option it passes is one the tool accepts, and each
headline section carries a command next to its numbers."""
import itertools
import os
import re
import subprocess
import sys

from conftest import ROOT

DOC = os.path.join(ROOT, 'docs', 'RESULTS.md')


def expand(path):
    """'a_{x,y}_b' -> ['a_x_b', 'a_y_b'] (any number of brace groups)."""
    parts = re.split(r'\{([^{}]*)\}', path)
    choices = [[p] if i % 2 == 0 else p.split(',') for i, p in enumerate(parts)]
    return [''.join(c) for c in itertools.product(*choices)]


def test_every_config_and_tool_named_exists():
    text = open(DOC).read()
    paths = set(re.findall(r'(?<![\w/.])((?:configs|tools|benchmarks)/[\w{},.+\-/]+\.(?:py|yaml|sh))', text))
    assert len(paths) > 15
    missing = [p for pat in sorted(paths) for p in expand(pat) if not os.path.isfile(os.path.join(ROOT, p))]
    assert not missing, f'docs/RESULTS.md names files that do not exist: {missing}'


def test_every_tool_option_used_is_accepted():
    text = open(DOC).read()
    used = {}
    for line in re.findall(r'python (tools/run_\w+\.py[^`\n]*)', text):
        tool, *rest = line.split()
        used.setdefault(tool, set()).update(a for a in rest if a.startswith('--') and a != '--')
    assert {
        'tools/run_pixpro_transfer.py', 'tools/run_classmix_experiment.py', 'tools/run_dacs_experiment.py',
        'tools/run_experiments.py'
    } <= set(used)
    for tool, options in used.items():
        helptext = subprocess.run([sys.executable, tool, '--help'], cwd=ROOT, capture_output=True, text=True).stdout
        unknown = [o for o in options if o.split('=')[0] not in helptext]
        assert not unknown, f'{tool} does not accept {unknown}'


def test_each_headline_has_its_command_and_the_readme_links_the_page():
    text = open(DOC).read()
    for report in ('PixPro thesis', 'ERFNet thesis', 'Mask R-CNN thesis', 'SimCLR report', 'ClassMix/DACS thesis'):
        sections = [s.split('\n## ')[0] for s in text.split(f'## The {report}:')[1:]]
        assert sections, f'docs/RESULTS.md has no section "## The {report}: ..."'
        for section in sections:
            assert 'python tools/' in section, f'a {report} section has no command'
            assert re.search(r'\| \d+\.\d\d \|', section), f'a {report} section has no table of figures'
            if report != 'SimCLR report':  # the SimCLR report ran one seed per arm (the page says why)
                assert re.search(r'\d+\.\d\d \+- \d+\.\d\d', section), f'a {report} section has no mean +- std'
    assert 'docs/RESULTS.md' in open(os.path.join(ROOT, 'README.md')).read()
