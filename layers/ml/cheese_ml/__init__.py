"""Cheese's ML layer: face analysis, anonymisation, video emotion and pose on CPU.

Submodules are imported explicitly (`from cheese_ml.analysis import analyze`) so
that light ones (`cheese_ml.models`, `cheese_ml.fixtures`) do not pull in
onnxruntime or OpenCV. See layers/ml/README.md.
"""
