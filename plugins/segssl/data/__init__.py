"""segssl.data: the data around the models (framework-free, no torch): seeded label splits and
image lists (:mod:`.splits`), label-map conversion of GTA5 / SYNTHIA to Cityscapes train ids
(:mod:`.label_convert`, with the tables in :mod:`.uda_labels`) and COCO subsets
(:mod:`.coco_subset`)."""
