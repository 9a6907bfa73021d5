# SimCLR (the SimCLR report): ResNet-34 whose first layer is a 3x3 stride-1 conv with no max-pool
# (ResNet3x3Stem), projector Linear - BN - ReLU - Linear (512 -> 512 -> 128; the SimCLR report gives no
# widths: SimCLR's own hidden = feature width, out 128), NT-Xent with cosine similarity, tau 0.5.
model = dict(
    type='SimCLR',
    backbone=dict(type='ResNet3x3Stem', depth=34, style='pytorch', out_indices=(3,),
                  norm_cfg=dict(type='SyncBN', requires_grad=True), norm_eval=False, init_cfg=None),
    projector=dict(in_channels=512, hidden_channels=512, out_channels=128, batch_norm=True),
    temperature=0.5,
    data_preprocessor=dict(type='PixelViewsDataPreProcessor'))
# multi-process runs: the projector's BatchNorm1d becomes SyncBN (global batch statistics, as
# SimCLR's global BN); the NT-Xent negatives come from every rank (core.nt_xent_loss)
sync_bn = 'torch'
