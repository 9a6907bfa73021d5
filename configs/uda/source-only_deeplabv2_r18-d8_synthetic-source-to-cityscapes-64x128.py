# CPU twin of source-only_deeplabv2_r101-d8_1xb2_gta5-to-cityscapes-512x512_250k.py: the DACS twin's
# DeepLab-v2 ResNet-18 (half width) trained on the synthetic source rendering alone (same crops, batch 2,
# iterations, optimiser), evaluated on the synthetic cityscapes rendering.
_base_ = [
    '../_base_/models/deeplabv2_r101-d8.py',
    '../_base_/datasets/uda_synthetic_source_to_cityscapes-64x128.py',
    '../_base_/schedules/uda_synthetic_cpu.py',
    '../_base_/segssl_runtime.py',
]

norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=(64, 64)),
    backbone=dict(depth=18, stem_channels=32, base_channels=32, norm_cfg=norm_cfg, init_cfg=None),
    decode_head=dict(in_channels=256))
train_dataloader = dict(
    _delete_=True, batch_size=2, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True), dataset={{_base_.source_dataset}})
