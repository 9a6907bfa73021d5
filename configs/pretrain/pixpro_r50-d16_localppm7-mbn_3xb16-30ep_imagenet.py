# The PixPro thesis, Table 4.2 row "LocalPPM 7x7 + Momentum BN (48)" (70.93): dilated conv5 (14x14 maps),
# LocalPPM with 7x7 frames, Momentum BN in the target, batch 48 (lr 1.0 x 48 / 256).
_base_ = ['./pixpro_r50_3xb21-30ep_imagenet.py']

model = dict(
    backbone=dict(strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2)),
    head=dict(_delete_=True, type='local_ppm', frame=7, gamma=2.0),
    momentum_bn=dict(_delete_=True, stat_momentum=0.9))
train_dataloader = dict(batch_size=16)    # launch shape 3xb16: the row's batch 48 on 3 GPUs
optim_wrapper = dict(optimizer=dict(lr=1.0 * 48 / 256))
auto_scale_lr = dict(enable=False, base_batch_size=48)
