"""GPU and AMP readiness checked on the CPU (issue 17, items 1, 2, 4, 5, 6, 10, 11, 12): states
that mmengine loads onto the current device go back to the CPU before they are set, a donor
read on the CPU follows the weights' device (the meta device stands in for a GPU), moments and
encodings of half-precision input are computed in float32, one rank writes the mix figures, and
detectron2's device follows the machine (a broken detectron2._C: tests/test_detectron2.py)."""
import types

import pytest
import torch
import torch.nn.functional as F
from conftest import requires_mmseg
from torch.utils._python_dispatch import TorchDispatchMode

from segssl.core import sync_batchnorm
from segssl.core.momentum import MomentumBatchNorm2d
from segssl.core.propagation import SelfAttentionPropagation, sinusoidal_position_encoding_2d
from segssl.core.weight_surgery import filter_energy_refill_


class LoadedOnGPU:
    """Stands in for a tensor mmengine loaded with ``map_location=get_device()`` on a GPU:
    ``torch.set_rng_state`` and ``Generator.set_state`` refuse it ("RNG state must be a
    torch.ByteTensor"); only ``.cpu()`` gives the CPU ByteTensor back."""

    def __init__(self, tensor):
        self._tensor = tensor

    def cpu(self):
        return self._tensor

    def detach(self):
        return self


def test_loaded_on_gpu_stand_in_is_refused_as_a_cuda_tensor_would_be():
    with pytest.raises(TypeError):
        torch.set_rng_state(LoadedOnGPU(torch.get_rng_state()))
    with pytest.raises(TypeError):
        torch.Generator().set_state(LoadedOnGPU(torch.get_rng_state()))


@requires_mmseg
def test_random_state_hook_restores_states_loaded_onto_another_device():
    from segssl.mmseg.random_state import RandomStateHook
    hook, checkpoint = RandomStateHook(), {}
    torch.manual_seed(7)
    hook.before_save_checkpoint(None, checkpoint)
    expected = torch.rand(3)
    state = dict(checkpoint['segssl_rng_state'], torch=LoadedOnGPU(checkpoint['segssl_rng_state']['torch']))
    hook._pending = (5, state)
    torch.manual_seed(0)
    hook._restore(types.SimpleNamespace(iter=5, model=torch.nn.Module()), all_states=True)
    assert torch.equal(torch.rand(3), expected)


@requires_mmseg
def test_random_state_hook_keeps_a_fresh_stream_for_a_generator_state_of_another_device_type():
    # a CUDA generator's state (16 bytes) restored into a CPU generator (resumed on another device
    # type): torch refuses it; the hook warns in one line and the generator keeps its stream
    from segssl.mmseg.random_state import RandomStateHook
    hook, checkpoint = RandomStateHook(), {}
    hook.before_save_checkpoint(None, checkpoint)
    state = dict(checkpoint['segssl_rng_state'], generators={'': torch.zeros(16, dtype=torch.uint8)})
    hook._pending = (5, state)
    model = torch.nn.Module()
    model.generator = torch.Generator().manual_seed(3)
    expected = torch.rand(4, generator=torch.Generator().manual_seed(3))
    lines = []
    logger = types.SimpleNamespace(warning=lines.append)
    hook._restore(types.SimpleNamespace(iter=5, model=model, logger=logger), all_states=True)
    assert len(lines) == 1 and 'does not fit its cpu generator' in lines[0] and '\n' not in lines[0]
    assert torch.equal(torch.rand(4, generator=model.generator), expected)


@requires_mmseg
def test_classmix_generator_state_loaded_onto_another_device():
    from segssl.mmseg.classmix import ClassMixSegmentor
    saved = torch.Generator().manual_seed(11)
    state = saved.get_state()
    model = types.SimpleNamespace(generator=torch.Generator().manual_seed(0))
    ClassMixSegmentor.set_extra_state(model, LoadedOnGPU(state))
    assert torch.equal(torch.rand(4, generator=model.generator), torch.rand(4, generator=saved))


class RecordWrites(TorchDispatchMode):
    """Records (destination device, value device) of every indexed write (``aten.index_put_``)."""

    def __init__(self):
        super().__init__()
        self.writes = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func.overloadpacket is torch.ops.aten.index_put_:
            self.writes.append((args[0].device.type, args[2].device.type))
        return func(*args, **(kwargs or {}))


def test_filter_energy_refill_moves_the_donor_to_the_weights_device():
    weight = torch.randn(8, 3, 3, 3, device='meta')  # a GPU weight, as far as devices go
    donor, donor_bias = torch.randn(8, 3, 3, 3), torch.randn(8)  # read from a file: on the CPU
    bias = torch.zeros(8, device='meta')
    with RecordWrites() as mode:
        kept, replaced = filter_energy_refill_(weight, 0.75, bias=bias, donor_weight=donor, donor_bias=donor_bias)
    assert kept.device.type == replaced.device.type == 'meta' and len(kept) == 6 and len(replaced) == 2
    assert mode.writes == [('meta', 'meta'), ('meta', 'meta')]  # filters and biases, on the weight's device


def test_global_batch_moments_of_float16_input_are_float32():
    """64 x 4 x 112 x 112: M = 802816 elements per channel, inf as a float16 count (one process)."""
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(64, 4, 112, 112, generator=g) * 2 + 3).half()
    mean, var, m = sync_batchnorm.global_batch_moments(x, differentiable=False)
    x64 = x.double()
    assert mean.dtype == var.dtype == torch.float32 and float(m) == 64 * 112 * 112
    torch.testing.assert_close(mean.double(), x64.mean((0, 2, 3)), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(var.double(), x64.var((0, 2, 3), unbiased=False), rtol=1e-4, atol=1e-5)


def test_global_batch_moments_in_one_process_need_no_process_group():
    """Without torch.distributed initialised: the process's own moments, and the gradient of the
    brute-force formula (gpu_check's tier 1 calls it so; a one-process gloo group it would have to
    destroy can deadlock on the GIL, see tests/dist_testing.py)."""
    assert not torch.distributed.is_initialized()
    g = torch.Generator().manual_seed(3)
    x = torch.randn(5, 3, 4, 6, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(2, 3, generator=g, dtype=torch.float64)
    mean, var, m = sync_batchnorm.global_batch_moments(x)
    flat = x.transpose(0, 1).reshape(3, -1)
    ref_mean = flat.sum(1) / flat.shape[1]
    ref_var = ((flat - ref_mean[:, None])**2).sum(1) / flat.shape[1]
    assert float(m) == 5 * 4 * 6
    torch.testing.assert_close(mean, ref_mean, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(var, ref_var, rtol=1e-12, atol=1e-12)
    got = torch.autograd.grad((w[0] * mean).sum() + (w[1] * var).sum(), x)[0]
    ref = torch.autograd.grad((w[0] * ref_mean).sum() + (w[1] * ref_var).sum(), x)[0]
    torch.testing.assert_close(got, ref, rtol=1e-12, atol=1e-12)
    no_grad = sync_batchnorm.global_batch_moments(x.detach(), differentiable=False)
    torch.testing.assert_close(no_grad[1], ref_var.detach(), rtol=1e-12, atol=1e-12)


def test_allreduce_sync_bn_on_half_input_normalises_in_float32(monkeypatch):
    monkeypatch.setattr(sync_batchnorm, 'distributed_world_size', lambda: 2)
    monkeypatch.setattr(sync_batchnorm, 'dist_nn', types.SimpleNamespace(all_reduce=lambda t: t))  # one rank's view
    g = torch.Generator().manual_seed(1)
    x = (torch.randn(16, 3, 64, 64, generator=g) * 4 + 10).half()
    bn = sync_batchnorm.AllReduceSyncBatchNorm(3).train()
    ref = torch.nn.BatchNorm2d(3).train()
    y, y_ref = bn(x), ref(x.float())
    assert y.dtype == torch.float16
    torch.testing.assert_close(y.float(), y_ref, rtol=0, atol=4e-3)  # float16 rounding of y
    torch.testing.assert_close(bn.running_mean, ref.running_mean, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(bn.running_var, ref.running_var, rtol=1e-4, atol=1e-4)


def test_momentum_bn_statistics_of_bfloat16_input_are_float32():
    g = torch.Generator().manual_seed(2)
    xs = [(torch.randn(8, 3, 32, 32, generator=g) * 3 + 5).bfloat16() for _ in range(2)]
    mbn = MomentumBatchNorm2d(3, stat_momentum=0.5, sync=False).train()
    for x in xs:
        assert mbn(x).dtype == torch.bfloat16
    m = [x.double().mean((0, 2, 3)) for x in xs]
    v = [x.double().var((0, 2, 3), unbiased=False) for x in xs]
    torch.testing.assert_close(mbn.running_mean.double(), 0.5 * m[0] + 0.5 * m[1], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(mbn.running_var.double(), 0.5 * v[0] + 0.5 * v[1], rtol=1e-5, atol=1e-5)
    assert int(mbn.num_batches_tracked) == 2


class _Captured(Exception):
    pass


def test_self_attention_position_encoding_is_exact_to_float16_rounding():
    C, H, W = 256, 56, 56
    m = SelfAttentionPropagation(C)
    seen = {}

    def capture(module, args):
        seen['h'] = args[0]
        raise _Captured  # stop before the float16 convolutions (CPU)

    m.query.register_forward_pre_hook(capture)
    with pytest.raises(_Captured):
        m(torch.zeros(1, C, H, W, dtype=torch.float16))
    exact = sinusoidal_position_encoding_2d(C, H, W, dtype=torch.float64)
    err = (seen['h'].double() - exact).abs().max().item()
    built_in_half = sinusoidal_position_encoding_2d(C, H, W, dtype=torch.float16)
    assert err <= 2**-11  # float16 rounding of |v| <= 1
    assert (built_in_half.double() - exact).abs().max().item() > 0.01  # what building in float16 gave


@requires_mmseg
def test_colorization_loss_keeps_float32_targets_under_bfloat16_logits():
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    from segssl.mmseg.pretext.colorization_head import ColorizationHead
    head = ColorizationHead(in_channels=8, channels=8, num_convs=1)
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(2, 2, 8, 8, generator=g).bfloat16()
    targets = [torch.randn(2, 8, 8, generator=g) * 40 + 0.123 for _ in range(2)]
    samples = []
    for t in targets:
        s = SegDataSample()
        s.gt_ab = PixelData(data=t)
        samples.append(s)
    loss = head.loss_by_feat(logits, samples)['loss_mse']
    expected = F.mse_loss(logits.float(), torch.stack(targets))
    assert loss.dtype == torch.float32
    torch.testing.assert_close(loss, expected, rtol=1e-6, atol=0)


@requires_mmseg
def test_mix_visualization_records_on_rank_0_only(monkeypatch):
    from segssl.mmseg import mix_visualization_hook as mvh
    hook = mvh.MixVisualizationHook(interval=1)
    model = types.SimpleNamespace(keep_last_mix=False, last_mix='an older step')
    runner = types.SimpleNamespace(iter=0, model=model)
    hook.before_train_iter(runner, 0)
    assert hook._record and model.keep_last_mix is True and model.last_mix is None  # this step's mix
    model.keep_last_mix = False
    monkeypatch.setattr(mvh, 'is_main_process', lambda: False)
    hook.before_train_iter(runner, 0)
    assert not hook._record and model.keep_last_mix is False  # other ranks keep nothing


def test_detectron2_device_follows_the_machine(monkeypatch):
    pytest.importorskip('detectron2')
    import segssl.detectron2  # noqa: F401
    # isort: split
    from conftest import ROOT
    from detectron2.config import get_cfg

    from segssl.detectron2 import add_segssl_config
    from segssl.detectron2.config import merge_config_file, resolve_device

    def load():
        cfg = get_cfg()
        add_segssl_config(cfg)
        merge_config_file(cfg, f'{ROOT}/configs/detectron2/mask_rcnn_R_50_FPN_synthetic.yaml')
        return cfg

    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = load()
    assert cfg.MODEL.DEVICE == 'cuda'  # the config pins nothing: detectron2's default
    assert resolve_device(cfg) == ('cuda', 'cpu') and cfg.MODEL.DEVICE == 'cpu'
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = load()
    assert resolve_device(cfg) is None and cfg.MODEL.DEVICE == 'cuda'
    cfg.MODEL.DEVICE = 'cpu'  # an explicit CPU stays
    assert resolve_device(cfg) is None and cfg.MODEL.DEVICE == 'cpu'
