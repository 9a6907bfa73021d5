# BYOL (the Mask R-CNN thesis): online ResNet-50 + projector 2048 -> 4096 -> 256 + predictor 256 -> 4096 -> 256
# (Linear - BN - ReLU - Linear, BN on by default), target = EMA of encoder + projector with tau
# 0.996 -> 1 on a cosine schedule (MomentumUpdateHook), symmetrised 2 - 2cos loss. Inputs are the
# two-view pipeline's PackPixelViews output. The encoder starts from ImageNet weights as the Mask R-CNN thesis
# does (line ~675: "instead of adopting random initial weights, we employed ImageNet initial
# weights"): a torchvision ResNet-50 converted to mmseg names, named by SEGSSL_BACKBONE,
#   python tools/convert_checkpoint.py resnet50-0676ba61.pth work_dirs/pretrained/torchvision_r50_mmseg.pth \
#       --from torchvision --to mmseg
# The target branch starts as a copy of the loaded online branch (BYOL.init_weights).
# Random init instead: --cfg-options model.backbone.init_cfg=None
backbone_checkpoint = '{{$SEGSSL_BACKBONE:work_dirs/pretrained/torchvision_r50_mmseg.pth}}'
model = dict(
    type='BYOL',
    backbone=dict(type='ResNet', depth=50, style='pytorch', out_indices=(3,),
                  norm_cfg=dict(type='SyncBN', requires_grad=True), norm_eval=False,
                  init_cfg=dict(type='Pretrained', checkpoint=backbone_checkpoint)),
    projector=dict(in_channels=2048, hidden_channels=4096, out_channels=256, batch_norm=True),
    predictor=dict(hidden_channels=4096, batch_norm=True),
    symmetric=True,
    data_preprocessor=dict(type='PixelViewsDataPreProcessor'))
custom_hooks = [dict(type='MomentumUpdateHook', base_momentum=0.996, final_momentum=1.0)]
# multi-process runs: the MLPs' BatchNorm1d layers (and any other plain BN) become SyncBN, so the
# projector/predictor normalise with the global batch's statistics as the report's SyncBN does
sync_bn = 'torch'
