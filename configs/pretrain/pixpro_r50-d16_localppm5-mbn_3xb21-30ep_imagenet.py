# The PixPro thesis, Table 4.2 row "LocalPPM 5x5 + Momentum BN" (71.46): dilated conv5 (14x14 maps, padded
# to 15x15), LocalPPM with 5x5 frames, Momentum BN in the target, batch 64.
_base_ = ['./pixpro_r50_3xb21-30ep_imagenet.py']

model = dict(
    backbone=dict(strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2)),
    head=dict(_delete_=True, type='local_ppm', frame=5, gamma=2.0),
    momentum_bn=dict(_delete_=True, stat_momentum=0.9))
