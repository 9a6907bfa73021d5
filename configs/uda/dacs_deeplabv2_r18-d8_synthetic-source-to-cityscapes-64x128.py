# CPU twin of dacs_deeplabv2_r101-d8_1xb2_gta5-to-cityscapes-512x512_250k.py: the same DACS (InterMix,
# teacher EMA 0.99, tau 0.968, jitter + blur) with a randomly initialised (no weights offline) half-width DeepLab-v2 ResNet-18 on the
# synthetic source -> cityscapes renderings (64x64 crops, batch 2 + 2, 1000 iterations).
#   python tools/make_synthetic_data.py data/synthetic_uda --size 64x128 --num-train 64 --num-val 32
#   SEGSSL_DATA_ROOT=data/synthetic_uda python tools/train.py THIS_CONFIG
_base_ = [
    '../_base_/models/dacs_deeplabv2_r101-d8.py',
    '../_base_/datasets/uda_synthetic_source_to_cityscapes-64x128.py',
    '../_base_/schedules/uda_synthetic_cpu.py',
    '../_base_/segssl_runtime.py',
]

norm_cfg = dict(type='BN', requires_grad=True)
model = dict(segmentor=dict(
    data_preprocessor=dict(size=(64, 64)),
    backbone=dict(depth=18, stem_channels=32, base_channels=32, norm_cfg=norm_cfg, init_cfg=None),
    decode_head=dict(in_channels=256)))
