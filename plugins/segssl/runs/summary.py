"""docs/RESULTS.md's summary table, computed from the results files the headline tools write.

Each headline comparison is an :class:`Entry`: which tool's ``results*.json`` it reads, and which
two arms of it. :func:`arms` reads the per-seed values of both arms out of any of the three
formats (``transfer``: ``run_pixpro_transfer.py`` and ``run_pretext_transfer.py``, which share one layout;
``run_classmix_experiment.py``; ``run_dacs_experiment.py``);
the verdict is :func:`segssl.runs.experiments.compare_arms` over them, the same for every story.
Framework-free: it reads JSON.
"""
import json
import os
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

from .experiments import compare_arms

BEGIN, END = '<!-- summary:begin (tools/results_summary.py) -->', '<!-- summary:end -->'


@dataclass(frozen=True)
class Entry:
    """One row: arm ``a`` against arm ``b`` of the tool ``kind``'s results file ``path``."""
    story: str
    measurement: str
    path: str  # relative to the results folder
    kind: str  # 'transfer' | 'classmix' | 'dacs'
    a: str  # the arm's key in that file
    b: str
    a_name: str
    b_name: str
    metric: str = 'mIoU'


def arms(results: dict, kind: str, a: str, b: str, metric: str = 'mIoU') -> Tuple[List[int], List[float], List[float]]:
    """(seeds, values of arm a, values of arm b) from one tool's results, seeds in ascending order;
    only seeds that both arms have."""
    if kind == 'transfer':
        per = {int(s): rec for s, rec in results['runs'].items()}
        table = {arm: {s: rec[arm][metric] for s, rec in per.items() if arm in rec} for arm in (a, b)}
    elif kind == 'classmix':
        table = {arm: {int(s): r[metric] for s, r in results['runs'].get(arm, {}).items()} for arm in (a, b)}
    elif kind == 'dacs':
        table = {arm: {int(r['seed']): r[metric] for r in results['results'] if r['method'] == arm} for arm in (a, b)}
    else:
        raise ValueError(f'results kind {kind!r}: expected transfer, classmix or dacs')
    seeds = sorted(set(table[a]) & set(table[b]))
    if len(seeds) < 2:
        raise ValueError(f'{kind} results: arms {a!r} and {b!r} share {len(seeds)} seed(s), need at least 2 for a '
                         'seed spread')
    return seeds, [table[a][s] for s in seeds], [table[b][s] for s in seeds]


def summary_rows(entries: Sequence[Entry], folder: str) -> List[Dict]:
    """Every entry's seeds, values and compare_arms verdict; a missing results file is an error naming it."""
    rows = []
    for e in entries:
        path = os.path.join(folder, e.path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f'{path}: no results file for "{e.story}, {e.measurement}" (run its command '
                                    'in docs/RESULTS.md first)')
        with open(path) as f:
            seeds, a, b = arms(json.load(f), e.kind, e.a, e.b, e.metric)
        rows.append(dict(entry=e, seeds=seeds, a=a, b=b, verdict=compare_arms(a, b)))
    return rows


def summary_markdown(rows: Sequence[Dict]) -> str:
    """The table: per row both arms' mean +- std, A - B, the largest std and the two verdicts."""
    lines = [
        '| story | measurement | A vs B | A: mean +- std | B: mean +- std | A - B | largest std | beyond the spread? '
        '| every A run above every B run? |', '| --- | --- | --- | ---: | ---: | ---: | ---: | --- | --- |'
    ]
    for r in rows:
        e, v = r['entry'], r['verdict']
        seeds = ', '.join(str(s) for s in r['seeds'])
        lines.append(f'| {e.story} | {e.measurement} (seeds {seeds}) | {e.a_name} vs {e.b_name} | '
                     f'{v["a_mean"]:.2f} +- {v["a_std"]:.2f} | {v["b_mean"]:.2f} +- {v["b_std"]:.2f} | '
                     f'{v["diff"]:+.2f} | {v["spread"]:.2f} | {"**yes**" if v["a_better_beyond_spread"] else "no"} | '
                     f'{"yes" if v["separated"] else "no"} |')
    return '\n'.join(lines) + '\n'


def replace_between_markers(text: str, block: str) -> str:
    """``text`` with what lies between :data:`BEGIN` and :data:`END` replaced by ``block``."""
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ValueError(f'expected one {BEGIN!r} line followed by one {END!r} line')
    head, rest = text.split(BEGIN)
    return head + BEGIN + '\n' + block + rest[rest.index(END):]
