# BYOL (seed 002): online ResNet-50 + projector 2048 -> 4096 -> 256 + predictor 256 -> 4096 -> 256
# (Linear - BN - ReLU - Linear, BN on by default), target = EMA of encoder + projector with tau
# 0.996 -> 1 on a cosine schedule (MomentumUpdateHook), symmetrised 2 - 2cos loss. Inputs are the
# two-view pipeline's PackPixelViews output. The encoder starts from `backbone_checkpoint`
# (seed 002 used ImageNet weights) or at random with model.backbone.init_cfg=None.
backbone_checkpoint = None
model = dict(
    type='BYOL',
    backbone=dict(type='ResNet', depth=50, style='pytorch', out_indices=(3,),
                  norm_cfg=dict(type='SyncBN', requires_grad=True), norm_eval=False,
                  init_cfg=None),
    projector=dict(in_channels=2048, hidden_channels=4096, out_channels=256, batch_norm=True),
    predictor=dict(hidden_channels=4096, batch_norm=True),
    symmetric=True,
    data_preprocessor=dict(type='PixelViewsDataPreProcessor'))
custom_hooks = [dict(type='MomentumUpdateHook', base_momentum=0.996, final_momentum=1.0)]
# multi-process runs: the MLPs' BatchNorm1d layers (and any other plain BN) become SyncBN, so the
# projector/predictor normalise with the global batch's statistics as the seed's SyncBN does
sync_bn = 'torch'
