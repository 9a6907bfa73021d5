# The PixPro thesis, Table 4.2 row "Self-attention" (69.69): the PPM replaced by the self-attention head
# (2-D sinusoidal PE, 1x1 Q/K/V, scaled softmax, y = x + gamma o with gamma initialised to 0).
_base_ = ['./pixpro_r50_3xb21-30ep_imagenet.py']

model = dict(head=dict(_delete_=True, type='self_attention', position_encoding=True))
