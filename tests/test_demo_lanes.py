"""`make demo`'s two lanes (run_demo.py --jobs 2): stories 2-3 run in a second thread beside stories
1 and 4, every story still runs once, and a failure in the second lane (run_logged's sys.exit)
reaches the caller instead of dying with its thread. The stories are stubs here: the real runs are
test_demo_smoke.py's."""
import argparse
import os
import sys
import threading
import time

import pytest
from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, 'tools'))


def _demo(tmp_path, jobs, fail=None):
    import run_demo
    args = argparse.Namespace(data='data/synthetic', small_data='data/synthetic_64x128', out=str(tmp_path), iters={},
                              tiny=True, pool=0, pool_dir=None, threads=1, jobs=jobs, stages=list(run_demo.STAGES))
    demo, ran = run_demo.Demo(args), []

    def stage(name):
        ran.append((name, threading.current_thread() is threading.main_thread()))
        time.sleep(0.05)
        if name == fail:
            sys.exit(f'step failed: {name}')
        demo.minutes[name] = 0.0

    demo.stage = stage
    return demo, ran


def test_two_lanes_run_every_story_once_stories_2_3_beside_1_4(tmp_path):
    demo, ran = _demo(tmp_path, jobs=2)
    demo.lanes(demo.args.stages)
    assert sorted(n for n, _ in ran) == ['classmix', 'dacs', 'maskrcnn', 'pixpro']
    assert {n for n, main in ran if main} == {'pixpro', 'maskrcnn'}  # the streamed lane
    assert [n for n, _ in ran if n in ('pixpro', 'maskrcnn')] == ['pixpro', 'maskrcnn']  # 4 needs 1's weights
    assert [n for n, _ in ran if n in ('classmix', 'dacs')] == ['classmix', 'dacs']


def test_one_job_runs_the_stories_in_order_in_this_thread(tmp_path):
    demo, ran = _demo(tmp_path, jobs=1)
    demo.lanes(demo.args.stages)
    assert ran == [('pixpro', True), ('classmix', True), ('dacs', True), ('maskrcnn', True)]


@pytest.mark.parametrize('fail', ['dacs', 'pixpro'])
def test_a_failed_step_in_either_lane_stops_the_demo(tmp_path, fail):
    demo, ran = _demo(tmp_path, jobs=2, fail=fail)
    with pytest.raises(SystemExit, match=f'step failed: {fail}'):
        demo.lanes(demo.args.stages)
    assert not threading.enumerate()[1:] or all(t.name != 'demo-semi' for t in threading.enumerate())
