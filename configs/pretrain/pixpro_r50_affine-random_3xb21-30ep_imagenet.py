# The PixPro thesis, Table 4.1 row "Affine (rand. init.)" (71.80): one random affine per batch on view 1,
# rotation +-45 deg, translation +-100 px, x-shear +-10 deg (PixPro.batch_affine; the AffineView
# transform with mode='random' is the per-sample alternative).
_base_ = ['./pixpro_r50_3xb21-30ep_imagenet.py']

model = dict(batch_affine=dict(view=0, degrees=45, translate=(100, 100), shear=(10, 0)))
