# The PixPro thesis, Table 4.2 row "Momentum BN" (71.33): the baseline with Momentum BN in the target.
_base_ = ['./pixpro_r50_3xb21-30ep_imagenet.py']

model = dict(momentum_bn=dict(_delete_=True, stat_momentum=0.9))
