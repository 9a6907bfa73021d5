"""Placeholders for missing compiled extensions (segssl.compiled_ops): mmcv-lite's ``mmcv._ext``
(issue 23) and detectron2's ``_C``, and the detectron2 0.6 aliases for Pillow 10+ / numpy 2.

Each case runs in a fresh interpreter, so that what it registers in ``sys.modules`` stays there.
The frameworks' cases simulate a pure-Python install by making ``find_spec`` answer that the
extension does not exist; the framework-free cases use a package written in the test.
"""
import subprocess
import sys
import textwrap

import pytest
from conftest import ROOT, requires_mmseg

HIDE_MMCV_EXT = '''
import importlib.util
_find_spec = importlib.util.find_spec
importlib.util.find_spec = lambda name, *a: None if name == 'mmcv._ext' else _find_spec(name, *a)
'''


def run_snippet(code, tmp_path):
    script = tmp_path / 'snippet.py'
    script.write_text(textwrap.dedent(code))
    r = subprocess.run([sys.executable, str(script)], cwd=str(tmp_path), text=True, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=300, env={
                           'PYTHONPATH': f'{ROOT}/plugins',
                           'PATH': '/usr/bin:/bin'
                       })
    assert r.returncode == 0, r.stdout[-4000:]
    return r.stdout


def fake_package(tmp_path, ext_body=None):
    """A package ``fakefw`` with ``ops.py`` asking ``fakefw._ext`` for ``roi_align`` at import
    (as mmcv.ops does), and, unless ``ext_body`` is None, an extension module ``_ext``."""
    pkg = tmp_path / 'site' / 'fakefw'
    pkg.mkdir(parents=True)
    (pkg / '__init__.py').write_text('')
    (pkg / 'ops.py').write_text('import importlib\next = importlib.import_module("fakefw._ext")\n'
                                'assert hasattr(ext, "roi_align")\n'
                                'def roi_align(x):\n    return ext.roi_align(x)\n')
    if ext_body is not None:
        (pkg / '_ext.py').write_text(ext_body)
    return str(tmp_path / 'site')


@pytest.mark.parametrize('stubs', [True, False])
def test_placeholder_only_where_the_extension_is_missing(tmp_path, stubs):
    site = fake_package(tmp_path)
    out = run_snippet(
        f'''
        import sys
        sys.path.insert(0, {site!r})
        from segssl.compiled_ops import MissingCompiledOpError, install_placeholder_if_missing
        assert install_placeholder_if_missing('fakefw', '_ext', 'fakefw-lite has no extension',
                                              'install full fakefw', stubs={stubs})
        ext = sys.modules['fakefw._ext']
        assert ext.segssl_placeholder and ext.__spec__.name == 'fakefw._ext'
        assert not hasattr(ext, '__file__')
        if {stubs}:
            import fakefw.ops                      # asks for its op names at import: works
            try:
                fakefw.ops.roi_align(1)
            except MissingCompiledOpError as e:
                print('CALL:', e)
        else:
            assert not hasattr(ext, 'roi_align')   # hasattr answers False, as for an unbuilt op
            try:
                ext.roi_align
            except MissingCompiledOpError as e:
                print('ACCESS:', e)
        assert install_placeholder_if_missing('fakefw', '_ext', 'r', 'h', stubs={stubs})  # again
    ''', tmp_path)
    expected = ('fakefw._ext.roi_align is a compiled fakefw op, but it is not available here '
                '(fakefw-lite has no extension); segssl put a placeholder in its place. To use '
                'roi_align, install full fakefw.')
    assert (('CALL: ' if stubs else 'ACCESS: ') + expected) in out


def test_a_real_extension_is_never_touched(tmp_path):
    site = fake_package(tmp_path, 'def roi_align(x):\n    return 2 * x\n')
    out = run_snippet(
        f'''
        import sys
        sys.path.insert(0, {site!r})
        from segssl.compiled_ops import install_placeholder_if_missing
        assert not install_placeholder_if_missing('fakefw', '_ext', 'r', 'h', stubs=True)
        import fakefw.ops
        print('RESULT', fakefw.ops.roi_align(21))
        assert not hasattr(sys.modules['fakefw._ext'], 'segssl_placeholder')
    ''', tmp_path)
    assert 'RESULT 42' in out


def test_a_broken_extension_is_an_error(tmp_path):
    site = fake_package(tmp_path, 'raise ImportError("undefined symbol: _ZN3c10")\n')
    run_snippet(
        f'''
        import sys
        sys.path.insert(0, {site!r})
        from segssl.compiled_ops import install_placeholder_if_missing
        try:
            install_placeholder_if_missing('fakefw', '_ext', 'r', 'h', stubs=True)
        except ImportError as e:
            assert 'fakefw._ext exists' in str(e) and 'undefined symbol: _ZN3c10' in str(e), e
            assert 'rebuild fakefw' in str(e)
        else:
            raise AssertionError('a broken extension was replaced')
        assert 'fakefw._ext' not in sys.modules
    ''', tmp_path)


def test_full_mmcv_keeps_its_extension(tmp_path):
    pytest.importorskip('mmcv')
    run_snippet(
        '''
        import importlib.util, sys
        if importlib.util.find_spec('mmcv._ext') is None:
            sys.exit(0)                            # mmcv-lite: nothing to check here
        import segssl.mmseg as sm
        assert not sm.USING_MMCV_PLACEHOLDER
        assert not hasattr(sys.modules['mmcv._ext'], 'segssl_placeholder')
    ''', tmp_path)


@requires_mmseg
def test_mmcv_lite_gets_the_placeholder_and_mmseg_models_run(tmp_path):
    """Without mmcv._ext (mmcv-lite), segssl.mmseg still imports mmseg; an mmseg ResNet + FCN
    forward runs; a compiled op fails when called, naming it and full mmcv."""
    out = run_snippet(
        HIDE_MMCV_EXT + '''
import sys, torch
import segssl.mmseg as sm
from segssl.compiled_ops import MissingCompiledOpError
assert sm.USING_MMCV_PLACEHOLDER and sys.modules['mmcv._ext'].segssl_placeholder
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
init_default_scope('mmseg')
model = MODELS.build(dict(
    type='EncoderDecoder', data_preprocessor=dict(type='SegDataPreProcessor', size=(32, 32)),
    backbone=dict(type='ResNet', depth=18, out_indices=(3,)),
    decode_head=dict(type='FCNHead', in_channels=512, channels=16, num_convs=1, num_classes=3,
                     in_index=0)))
out = model.eval()(torch.randn(1, 3, 64, 64), mode='tensor')
print('SHAPE', tuple(out.shape))
from mmcv.ops import nms
try:
    nms(torch.rand(3, 4), torch.rand(3), 0.5)
except MissingCompiledOpError as e:
    print('OP:', e)
''', tmp_path)
    assert 'SHAPE (1, 3, 2, 2)' in out
    assert 'OP: mmcv._ext.nms is a compiled mmcv op, but it is not available here' in out
    assert 'install full mmcv with its ops instead of mmcv-lite' in out


def test_detectron2_aliases_only_where_missing(tmp_path):
    pytest.importorskip('detectron2')
    out = run_snippet(
        '''
        import numpy as np
        from PIL import Image
        had = {n: n in dir(np) or hasattr(np, n) for n in ('bool', 'int', 'float')}
        had_linear = hasattr(Image, 'LINEAR')
        bool_before = getattr(np, 'bool', None)
        import segssl.detectron2 as sd
        assert Image.LINEAR == Image.BILINEAR and np.int is int and np.float is float
        assert np.bool is (bool_before if had['bool'] else bool)   # never replaced
        expected = ([] if had_linear else ['PIL.Image.LINEAR']) + [
            f'numpy.{n}' for n in ('bool', 'int', 'float') if not had[n]]
        assert sd.COMPAT_ALIASES_SET == expected, (sd.COMPAT_ALIASES_SET, expected)
        import detectron2.data.transforms          # evaluates Image.LINEAR at import
        print('SET', sd.COMPAT_ALIASES_SET)
    ''', tmp_path)
    assert 'SET' in out
