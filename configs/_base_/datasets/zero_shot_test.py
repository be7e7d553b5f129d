# What every zero-shot benchmark shares: batch 1, mmseg's IoUMetric. Each dataset file sets the
# dataset type, root, folders and its class-name file; the leaf picks a test pipeline
# (`test_short336.py`, ...) and hands it to the loader:
#     test_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline}}))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(ann_file=''))
test_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
# SCLIP's class-name lists (class_names/sclip/) by default: the harness NACLIP, ProxyCLIP, SC-CLIP,
# ResCLIP, Trident and CorrCLIP reuse; a name may belong to one class only unless a dataset says so.
allow_shared_names = False
