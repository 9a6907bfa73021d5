# FCN (ResNet-18, output stride 8) trained from scratch on segssl's synthetic Cityscapes-layout
# set, evaluated with mmseg's IoUMetric. Runs on a CPU in about 3 minutes:
#   python tools/make_synthetic_data.py data/synthetic
#   python tools/train.py configs/quickstart/fcn_r18-d8_synthetic-128x256.py
# The data root can be moved with SEGSSL_DATA_ROOT=/path (the folder make_synthetic_data wrote).
_base_ = [
    'mmseg::_base_/models/fcn_r50-d8.py',
    '../_base_/datasets/synthetic_cityscapes-128x256.py',
    '../_base_/schedules/synthetic_200it.py',
    '../_base_/segssl_runtime.py',
]

norm_cfg = dict(type='BN', requires_grad=True)  # SyncBN under a distributed launcher: see README
model = dict(
    data_preprocessor=dict(size=(128, 128)),
    pretrained=None,  # mmseg's base names open-mmlab:// weights; this machine is offline
    backbone=dict(depth=18, norm_cfg=norm_cfg),
    decode_head=dict(in_channels=512, channels=128, num_classes=19, norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=256, channels=64, num_classes=19, norm_cfg=norm_cfg))
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=5e-4))
