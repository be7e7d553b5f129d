# OV-LVIS: LVIS v1 val with frequent + common as base and rare as novel; the number is mask APr
# (LVISMetric's segm_APr). A training-free detector saw no class in training: every class is
# novel to it, and APr is reported as the field reports it.
_base_ = ['./lvis_v1.py']
val_evaluator = dict(metric='segm')
test_evaluator = val_evaluator
