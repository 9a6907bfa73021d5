"""The multi-process test harness itself (tests/dist_testing.py, issue 16): ranks are fresh
interpreters, a failed rank is reported by its exit code, and a hung rank fails the test within
seconds with its rank number and Python stack in the error."""
import os
import time

import dist_testing
import pytest
from dist_testing import RankHang, run_ranks

MARK = 'set in the test process only'


def _report_state(out):
    rank = os.environ['RANK']
    with open(os.path.join(out, f'rank{rank}.txt'), 'w') as f:
        f.write(f"{getattr(dist_testing, 'runtime_mark', None)}|{os.environ['WORLD_SIZE']}|{os.environ['MASTER_PORT']}")


def test_ranks_are_fresh_interpreters_with_torchrun_environment(tmp_path, monkeypatch):
    monkeypatch.setattr(dist_testing, 'runtime_mark', MARK, raising=False)  # a fork would inherit it
    assert run_ranks(_report_state, 2, str(tmp_path)) == [0, 0]
    states = [open(tmp_path / f'rank{r}.txt').read().split('|') for r in range(2)]
    assert [s[0] for s in states] == ['None', 'None']
    assert [s[1] for s in states] == ['2', '2'] and states[0][2] == states[1][2]


def _fail_on_rank_1():
    if os.environ['RANK'] == '1':
        raise ValueError('rank 1 fails on purpose')


def test_a_failing_rank_gives_exit_code_1_and_the_others_0():
    assert run_ranks(_fail_on_rank_1, 2) == [0, 1]


def _stuck_forever():
    while True:
        time.sleep(0.1)


def _rank_1_hangs():
    if os.environ['RANK'] == '1':
        _stuck_forever()


def test_a_hung_rank_fails_fast_naming_the_rank_and_where_it_was_stuck():
    start = time.monotonic()
    with pytest.raises(RankHang) as info:
        run_ranks(_rank_1_hangs, 2, straggle=3)
    elapsed = time.monotonic() - start
    message = str(info.value)
    assert elapsed < 30, elapsed  # not the 240 s timeout
    assert 'rank 1 (pid' in message and 'rank 0 (pid' not in message
    assert 'still in its function 3 s after another rank had finished' in message
    # faulthandler's dump: the stuck frame and its caller, with this file's name
    assert '_stuck_forever' in message and '_rank_1_hangs' in message and 'test_dist_testing.py' in message


def test_the_timeout_dumps_every_running_rank():
    with pytest.raises(RankHang) as info:
        run_ranks(_stuck_forever, 2, timeout=4)
    message = str(info.value)
    assert '2 of 2 ranks' in message and 'rank 0 (pid' in message and 'rank 1 (pid' in message
    assert message.count('_stuck_forever') >= 2
