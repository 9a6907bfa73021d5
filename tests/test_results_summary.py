"""tools/results_summary.py and segssl.runs.summary: the summary rows of docs/RESULTS.md from the three
headline tools' results formats, checked against means and sample stds computed here by hand, and the
table in docs/RESULTS.md against the results files kept in docs/results/."""
import json
import math
import os

import pytest
from conftest import ROOT, run_tool

from segssl.runs.summary import BEGIN, END, Entry, arms, replace_between_markers, summary_markdown, summary_rows

A, B = [20.0, 22.5, 21.0], [19.0, 19.5, 21.5]


def _mean_std(v):
    m = sum(v) / len(v)
    return m, math.sqrt(sum((x - m)**2 for x in v) / (len(v) - 1))


def _files(folder):
    """The three tools' formats holding arms A and B over seeds 0-2 (one extra seed in one arm only)."""
    pix = {
        'runs': {
            str(s): {
                'fcn16_ssl': {
                    'mIoU': a
                },
                'fcn16_random': {
                    'mIoU': b
                }
            }
            for s, (a, b) in enumerate(zip(A, B))
        }
    }
    pix['runs']['3'] = {'fcn16_ssl': {'mIoU': 99.0}}  # a seed with one arm only is left out
    cmx = {
        'runs': {
            'classmix': {
                str(s): {
                    'mIoU': a
                }
                for s, a in enumerate(A)
            },
            'supervised': {
                str(s): {
                    'mIoU': b
                }
                for s, b in enumerate(B)
            }
        }
    }
    dacs = {
        'results': [
            dict(method=m, seed=s, mIoU=v) for m, vals in (('dacs', A), ('source-only', B)) for s, v in enumerate(vals)
        ]
    }
    for name, data in (('pix.json', pix), ('cmx.json', cmx), ('dacs.json', dacs)):
        with open(os.path.join(folder, name), 'w') as f:
            json.dump(data, f)


ENTRIES = [
    Entry('s', 'pix', 'pix.json', 'transfer', 'fcn16_ssl', 'fcn16_random', 'A', 'B'),
    Entry('s', 'cmx', 'cmx.json', 'classmix', 'classmix', 'supervised', 'A', 'B'),
    Entry('s', 'dacs', 'dacs.json', 'dacs', 'dacs', 'source-only', 'A', 'B'),
]


def test_rows_from_every_format(tmp_path):
    _files(str(tmp_path))
    (ma, sa), (mb, sb) = _mean_std(A), _mean_std(B)
    rows = summary_rows(ENTRIES, str(tmp_path))
    for r in rows:
        assert r['seeds'] == [0, 1, 2] and r['a'] == A and r['b'] == B
        v = r['verdict']
        assert (v['a_mean'], v['b_mean']) == pytest.approx((ma, mb), abs=1e-12)
        assert (v['a_std'], v['b_std']) == pytest.approx((sa, sb), abs=1e-12)
        assert v['a_better_beyond_spread'] == (ma - mb > max(sa, sb)) and not v['separated']  # 21.0 < 21.5
    md = summary_markdown(rows)
    row = (f'| s | pix (seeds 0, 1, 2) | A vs B | {ma:.2f} +- {sa:.2f} | {mb:.2f} +- {sb:.2f} | {ma - mb:+.2f} | '
           f'{max(sa, sb):.2f} |')
    assert row in md and md.count('\n') == 5


def test_errors_name_what_is_wrong(tmp_path):
    with pytest.raises(FileNotFoundError, match='no results file for "s, pix"'):
        summary_rows(ENTRIES[:1], str(tmp_path))
    with pytest.raises(ValueError, match='share 1 seed'):
        arms({'runs': {'0': {'x': {'mIoU': 1}, 'y': {'mIoU': 2}}}}, 'transfer', 'x', 'y')
    with pytest.raises(ValueError, match='expected transfer, classmix or dacs'):
        arms({}, 'byol', 'x', 'y')
    with pytest.raises(ValueError, match='expected one'):
        replace_between_markers('no markers', 'x')
    assert replace_between_markers(f'a\n{BEGIN}\nold\n{END}\nb', 'new\n') == f'a\n{BEGIN}\nnew\n{END}\nb'


def test_results_doc_summary_is_the_tools_output():
    """docs/RESULTS.md's table is what the tool prints from the kept results files."""
    r = run_tool(['tools/results_summary.py', '--results', 'docs/results'])
    assert r.returncode == 0, r.stdout[-2000:]
    doc = open(os.path.join(ROOT, 'docs', 'RESULTS.md')).read()
    assert doc.split(BEGIN)[1].split(END)[0].strip() == r.stdout.strip()


def test_missing_results_is_one_line_error(tmp_path):
    r = run_tool(['tools/results_summary.py', '--results', str(tmp_path)])
    assert r.returncode == 2 and 'no results file for' in r.stdout and 'Traceback' not in r.stdout
