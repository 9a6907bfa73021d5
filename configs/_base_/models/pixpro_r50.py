# PixPro (the PixPro thesis baseline): ResNet-50 online encoder with SyncBN (reverted to BN by mmengine
# when not distributed), projector 2048 -> 4096 -> 256, PPM head (gamma 2, g = one 1x1 conv),
# EMA target (momentum 0.99 -> 1, cosine; MomentumUpdateHook), tau = 0.7, 7x7 feature map.
model = dict(
    type='PixPro',
    backbone=dict(type='ResNet', depth=50, style='pytorch', out_indices=(3,),
                  norm_cfg=dict(type='SyncBN', requires_grad=True), norm_eval=False),
    projector=dict(in_channels=2048, hidden_channels=4096, out_channels=256,
                   norm_cfg=dict(type='SyncBN')),
    head=dict(type='ppm', gamma=2.0, value_transform='conv', value_layers=1),
    tau=0.7,
    loss_weight=1.0,
    momentum_bn=None,
    data_preprocessor=dict(type='PixelViewsDataPreProcessor'))
custom_hooks = [dict(type='MomentumUpdateHook', base_momentum=0.99, final_momentum=1.0)]
