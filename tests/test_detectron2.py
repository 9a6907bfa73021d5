"""detectron2 wiring: the detectron2._C placeholder, and Mask R-CNN R50-FPN trained and
evaluated for 2 iterations through tools/train_net.py on the synthetic COCO set."""
import json
import math
import os
import textwrap

import pytest
from conftest import ROOT, run_tool

pytest.importorskip('detectron2', reason='detectron2 is installed by `make setup`')
CONFIG = os.path.join(ROOT, 'configs', 'detectron2', 'mask_rcnn_R_50_FPN_synthetic.yaml')


def run_snippet(code, tmp_path):
    script = tmp_path / 'snippet.py'
    script.write_text(textwrap.dedent(code))
    r = run_tool([str(script)], timeout=300)
    assert r.returncode == 0, r.stdout[-4000:]
    return r.stdout


def test_placeholder_stands_in_for_missing_extension(tmp_path):
    out = run_snippet(
        '''
        import sys
        import segssl.detectron2 as sd
        from segssl.detectron2 import MissingCompiledOpError
        _C = sys.modules['detectron2._C']
        assert sd.USING_PLACEHOLDER and _C.segssl_placeholder
        import detectron2, detectron2.layers, detectron2.modeling   # imported _C at module level
        assert detectron2._C is _C
        try:
            _C.deform_conv_forward
        except MissingCompiledOpError as e:
            msg = str(e)
        else:
            raise AssertionError('no error')
        assert 'deform_conv_forward' in msg and 'from source' in msg, msg
        assert not hasattr(_C, '__file__') and not hasattr(_C, 'box_iou_rotated')
        from detectron2.utils.collect_env import collect_env_info
        info = collect_env_info()        # train_net's default_setup logs this
        assert 'segssl placeholder' in info
        import torch
        from detectron2.layers.rotated_boxes import pairwise_iou_rotated   # a CPU op in _C
        try:
            pairwise_iou_rotated(torch.tensor([[5., 5, 2, 2, 0]]), torch.tensor([[5., 5, 2, 2, 30]]))
        except MissingCompiledOpError as e:
            print('OP ERROR:', e)
    ''', tmp_path)
    assert 'OP ERROR: detectron2._C.box_iou_rotated is a compiled detectron2 op' in out


def fake_extension(tmp_path, body):
    ext = tmp_path / 'fake_ext'
    ext.mkdir()
    (ext / '_C.py').write_text(body)
    return ext


def test_placeholder_stays_out_of_the_way_of_a_real_extension(tmp_path):
    ext = fake_extension(tmp_path, 'REAL = True\ndef get_compiler_version():\n    return "gcc real"\n')
    run_snippet(
        f'''
        import sys, detectron2
        detectron2.__path__.append({str(ext)!r})      # a compiled _C next to detectron2's sources
        import segssl.detectron2 as sd
        assert not sd.USING_PLACEHOLDER
        assert sys.modules['detectron2._C'].REAL and detectron2._C.REAL
        assert not hasattr(sys.modules['detectron2._C'], 'segssl_placeholder')
    ''', tmp_path)


def test_broken_extension_is_an_error_with_the_loaders_message(tmp_path):
    """A _C that exists but does not load (built for another torch / CUDA) is not silently
    replaced by the placeholder (issue 17, item 12): the import fails, naming it and the error."""
    ext = fake_extension(tmp_path, 'raise ImportError("undefined symbol: _ZN2at6Tensor")\n')
    run_snippet(
        f'''
        import sys, detectron2
        detectron2.__path__.append({str(ext)!r})
        try:
            import segssl.detectron2
        except ImportError as e:
            assert str(e).startswith('detectron2._C exists ({ext}/_C.py) but does not load: '
                                     'undefined symbol: _ZN2at6Tensor. It was probably built against '
                                     'another torch or CUDA'), str(e)
        else:
            raise AssertionError('a broken detectron2._C was accepted')
        assert 'detectron2._C' not in sys.modules
    ''', tmp_path)


def test_mask_rcnn_trains_and_evaluates_through_train_net(synthetic_root, tmp_path):
    out = tmp_path / 'mrcnn'
    r = run_tool([
        'tools/train_net.py', '--config-file', CONFIG, 'SEGSSL.SYNTHETIC_ROOT', synthetic_root, 'OUTPUT_DIR',
        str(out), 'SOLVER.MAX_ITER', '2', 'SOLVER.STEPS', '(1,)', 'SOLVER.WARMUP_ITERS', '1',
        'SOLVER.CHECKPOINT_PERIOD', '2', 'INPUT.MIN_SIZE_TRAIN', '(128,)', 'INPUT.MIN_SIZE_TEST', '128'
    ])
    assert r.returncode == 0, r.stdout[-4000:]
    assert 'segssl placeholder' in r.stdout  # it really ran without detectron2._C
    res = json.load(open(out / 'eval_results.json'))
    for task in ('bbox', 'segm'):
        assert all(math.isfinite(res[task][k]) and 0 <= res[task][k] <= 100 for k in ('AP', 'AP50', 'AP75')), res
    losses = [json.loads(l) for l in open(out / 'metrics.json') if 'total_loss' in l]
    assert losses and all(math.isfinite(rec['total_loss']) for rec in losses)
    assert os.path.isfile(out / 'model_final.pth')


def test_missing_synthetic_root_is_named(tmp_path):
    missing = str(tmp_path / 'nowhere')
    r = run_tool([
        'tools/train_net.py', '--config-file', CONFIG, 'SEGSSL.SYNTHETIC_ROOT', missing, 'OUTPUT_DIR',
        str(tmp_path / 'o')
    ], timeout=300)
    assert r.returncode != 0 and f'SEGSSL.SYNTHETIC_ROOT={missing!r}' in r.stdout, r.stdout[-3000:]


def test_a_label_split_keeps_only_its_labelled_images(synthetic_root, tmp_path):
    """SEGSSL.LABEL_SPLIT: segssl_synthetic_coco_train holds the split's images (the Mask R-CNN arms of
    run_pixpro_transfer.py --label-split); a split that is missing or lists foreign ids is named."""
    import shutil
    root = tmp_path / 'data'
    shutil.copytree(synthetic_root, root)
    assert run_tool(['tools/make_label_splits.py', str(root / 'coco'), '--dataset', 'coco']).returncode == 0
    out = run_snippet(
        f"""
        import json, os
        from segssl.detectron2 import add_segssl_config, register_synthetic_coco  # first: the _C placeholder
        from detectron2.config import get_cfg
        from detectron2.data import DatasetCatalog
        from segssl.detectron2.datasets import missing_synthetic_root
        root = {str(root)!r}
        def names():
            return sorted(os.path.basename(d['file_name']) for d in DatasetCatalog.get('segssl_synthetic_coco_train'))
        got = {{}}
        register_synthetic_coco(root, '1-2')
        got['split'] = names()
        register_synthetic_coco(root)
        got['all'] = names()
        register_synthetic_coco(root, '1-8')
        got['1-8'] = names()
        try:
            register_synthetic_coco(root, '1-3')
        except FileNotFoundError as e:
            got['missing'] = str(e)
        with open(os.path.join(root, 'coco', 'splits', '1-4', 'labelled.txt'), 'a') as f:
            f.write('999999\\n')
        register_synthetic_coco(root, '1-4')
        try:
            DatasetCatalog.get('segssl_synthetic_coco_train')
        except ValueError as e:
            got['foreign'] = str(e)
        cfg = add_segssl_config(get_cfg())
        cfg.SEGSSL.LABEL_SPLIT = '1-8'
        cfg.DATASETS.TRAIN = ('coco_2017_train', )
        got['other_set'] = missing_synthetic_root(cfg)
        print('RESULT', json.dumps(got))
        """, tmp_path)
    got = json.loads(out.split('RESULT ', 1)[1])
    lab = {f'{i}.png' for i in open(root / 'coco' / 'splits' / '1-2' / 'labelled.txt').read().split()}
    assert got['split'] == sorted(lab) and len(lab) == 3
    assert got['all'] == sorted(os.listdir(root / 'coco' / 'train')) and len(got['all']) == 6
    assert len(got['1-8']) == 1 and set(got['1-8']) <= lab  # the splits are nested
    assert '1-3' in got['missing'] and 'make_label_splits.py' in got['missing'] and '--dataset coco' in got['missing']
    assert 'lists 3 images, 1 of them not in the set' in got['foreign']
    assert 'applies to segssl_synthetic_coco_train only' in got['other_set']


def test_mask_rcnn_config_takes_converted_ssl_weights(synthetic_root, tmp_path):
    """The checkpoint bridge's .pkl, given by path as MODEL.WEIGHTS, loads into Mask R-CNN's
    backbone with no missing backbone key and no unused key (only FPN/RPN/ROI heads are new)."""
    import re

    import torch
    import torchvision

    from segssl.convert.bridge import convert
    torch.manual_seed(0)
    torch.save({'state_dict': torchvision.models.resnet50().state_dict()}, tmp_path / 'r50.pth')
    convert(str(tmp_path / 'r50.pth'), str(tmp_path / 'r50.pkl'), 'detectron2')
    r = run_tool([
        'tools/train_net.py', '--config-file', CONFIG, '--eval-only', 'MODEL.WEIGHTS',
        str(tmp_path / 'r50.pkl'), 'SEGSSL.SYNTHETIC_ROOT', synthetic_root, 'OUTPUT_DIR',
        str(tmp_path / 'eval'), 'TEST.DETECTIONS_PER_IMAGE', '5'
    ])
    out = re.sub(r'\x1b\[[0-9;]*m', '', r.stdout)
    assert r.returncode == 0, out[-4000:]
    assert "Reading a file from 'segssl'" in out
    missing = out.split('not found in the checkpoint:')[1].split('\n[')[0]
    assert 'roi_heads' in missing and 'backbone.bottom_up' not in missing, missing
    assert 'not used by the model' not in out
    assert os.path.isfile(tmp_path / 'eval' / 'eval_results.json')
