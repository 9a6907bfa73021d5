# The PixPro thesis, Table 4.2 row "LocalPPM 5x5 + Momentum BN (48)" (69.60 +- 1.34; the PixPro thesis line ~618):
# as "LocalPPM 5x5 + Momentum BN" (dilated conv5, 14x14 maps padded to 15x15, 5x5 frames, Momentum
# BN in the target) with batch 48 instead of 64 (lr 1.0 x 48 / 256), as the 7x7 (48) row.
_base_ = ['./pixpro_r50-d16_localppm5-mbn_3xb21-30ep_imagenet.py']

train_dataloader = dict(batch_size=16)    # launch shape 3xb16: the row's batch 48 on 3 GPUs
optim_wrapper = dict(optimizer=dict(lr=1.0 * 48 / 256))
auto_scale_lr = dict(enable=False, base_batch_size=48)
